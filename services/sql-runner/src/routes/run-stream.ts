import { RUN_STREAM_CONTENT_TYPE, type RunEvent } from '@taidon/contracts';
import type { FastifyReply } from 'fastify';
import type { Emit } from '../domain/runs/execute.js';

/** How often a run stream says it is alive while nothing else is sent. */
export const HEARTBEAT_MS = 1000;

/**
 * How long an event waits for the next ones before they are written together. A REPL run's events (started,
 * progress, resultset, rows, complete, done) come a pg round trip or two apart; written one by one they were
 * five writes here and five reads and writes in the gateway, each a system call and a wake-up on both sides
 * of the loopback. The last events go at once with the end of the stream, so a run's `done` is never late;
 * a statement's first rows go at once with what was gathered before them, so a small result is not held
 * for the portal's close and the run's record (issue 19).
 */
export const GATHER_MS = 5;
/** Gathered text (in characters) past which it is written at once: a large result's rows are not held back. */
export const GATHER_CHARS = 16 * 1024;

/** A run's NDJSON answer: its events written as they come, at the pace the client reads. */
export interface RunStream {
  /** Writes one event; `drained` resolves once the client has taken what was written (or left). */
  emit: Emit;
  /** Called if the client goes away before the stream ends, with the id its `started` event gave the run. */
  onClientGone(listener: (runId: string) => void): void;
  end(): void;
}

/**
 * Takes over the reply and answers 200 NDJSON, one event per line, with a
 * heartbeat every HEARTBEAT_MS naming the phase of the last `progress`
 * event and the time since `startedAt` (the request's start). Events are
 * gathered for at most GATHER_MS (or GATHER_CHARS) and written together;
 * the response's head goes with the first of them.
 */
export function openRunStream(reply: FastifyReply, requestId: string, startedAt: number): RunStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': RUN_STREAM_CONTENT_TYPE,
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  let phase = 'plan';
  let runId: string | undefined;
  let ended = false;
  // A client may leave while its run is planned and admitted, before this stream exists (its 'close' has
  // fired then), or before the run has an id: either way the run is cancelled as soon as it has one.
  let gone = raw.destroyed || raw.socket?.destroyed === true;
  const goneListeners: ((runId: string) => void)[] = [];
  const tellGone = () => {
    const id = runId;
    // After the current call: `started` is emitted before the run is registered where a cancel finds it.
    if (id) for (const listener of goneListeners.splice(0)) queueMicrotask(() => listener(id));
  };
  raw.on('close', () => {
    if (ended) return;
    gone = true;
    tellGone();
  });
  /** Events not written yet, and the timer that writes them. */
  let gathered = '';
  let gatherTimer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (gatherTimer) clearTimeout(gatherTimer);
    gatherTimer = undefined;
    const text = gathered;
    gathered = '';
    if (text !== '' && !raw.writableEnded) raw.write(text);
  };
  const write = (event: RunEvent, atOnce = false) => {
    if (raw.writableEnded) return;
    gathered += `${JSON.stringify(event)}\n`;
    if (atOnce || gathered.length >= GATHER_CHARS) flush();
    else gatherTimer ??= setTimeout(flush, GATHER_MS);
  };
  /** The last statement whose first rows were written: a statement's first rows are not held back. */
  let rowsOf = -1;
  const emit: Emit = (event) => {
    if (event.type === 'progress') phase = event.phase;
    else if (event.type === 'started') runId = event.runId;
    const firstRows = event.type === 'rows' && event.statement !== rowsOf;
    if (firstRows) rowsOf = event.statement;
    write(event, firstRows);
    if (gone) tellGone();
  };
  // A client that reads slowly holds the run back (its statement waits on the server), never this
  // process's memory: rows are read from the sandbox once the response's buffer has drained.
  // What is gathered is bounded by GATHER_CHARS, so only what was written counts here.
  emit.drained = () =>
    raw.writableNeedDrain && !raw.destroyed
      ? new Promise<void>((resolve) => {
          const done = () => {
            raw.off('drain', done);
            raw.off('close', done);
            resolve();
          };
          raw.once('drain', done);
          raw.once('close', done);
        })
      : Promise.resolve();
  const heartbeat = setInterval(
    () => write({ type: 'heartbeat', phase, elapsedMs: Math.round(performance.now() - startedAt) }),
    HEARTBEAT_MS,
  );
  return {
    emit,
    onClientGone(listener) {
      goneListeners.push(listener);
      if (gone) tellGone();
    },
    end() {
      ended = true;
      clearInterval(heartbeat);
      if (gatherTimer) clearTimeout(gatherTimer);
      // The last events and the end of the chunked body in one write.
      const text = gathered;
      gathered = '';
      if (raw.writableEnded) return;
      if (text === '') raw.end();
      else raw.end(text);
    },
  };
}
