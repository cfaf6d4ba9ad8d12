import { randomUUID } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { sendRequest } from './http-client.js';
import { SERVICE_TOKEN_HEADER } from './service-auth.js';

/**
 * One audit event as a caller records it (the shape of AuditEvent in
 * @taidon/contracts; the kit does not depend on contracts). `id` and `at`
 * are filled in when absent. Never put SQL text, passwords, tokens or
 * cookies in it: audit-log refuses details whose keys name them.
 */
export interface AuditRecord {
  id?: string;
  at?: string;
  action: string;
  accountId?: string;
  actorId?: string;
  target?: string;
  ip?: string;
  requestId?: string;
  detail?: Record<string, unknown>;
}

/** Options of createAuditSink. */
export interface AuditSinkOptions {
  /** Base URL of audit-log; a function when it may move (read before every send). */
  url: string | (() => string);
  serviceToken: string;
  /** JSONL file holding events not yet accepted; survives restarts and outages. */
  outboxFile: string;
  logger: Logger;
  /** Events per `POST /events`. */
  batchSize?: number;
  /** First retry delay after a failed send, doubled up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Deadline of one send. */
  timeoutMs?: number;
  /**
   * How long an event waits for others before a send (default DEFAULT_LINGER_MS).
   * Every send costs audit-log a transaction (lock, chain head, insert) and this
   * process an outbox rewrite, whatever the number of events in it; without the
   * wait, runs a few ms apart each got a send of their own.
   */
  lingerMs?: number;
}

/**
 * How long a recorded event waits for others before they are sent together. The event is in the outbox file
 * from the start; only its arrival in audit-log waits. 100 ms made a send (and an outbox rewrite, and six
 * statements in audit-log) for every 25 runs at 250 runs a second, 0.2 ms of audit-log's CPU per run and
 * per sign-in (issue 22); at 1 s a send carries ten times as many events for the same cost.
 */
export const DEFAULT_LINGER_MS = 1_000;

/** A durable, non-blocking way to report audit events. */
export interface AuditSink {
  /**
   * Queues an event and appends it to the outbox before returning (a write into the page cache, a few µs),
   * or, while a rewrite of the outbox is under way, right after it; never throws and never waits for the network.
   */
  record(event: AuditRecord): void;
  /** Resolves when every event recorded so far was accepted, or rejects after one failed attempt. */
  flush(): Promise<void>;
  /** Events waiting in the outbox. */
  pending(): number;
  /** Stops the drain loop after one last attempt; what is left stays in the outbox for the next start. */
  close(): Promise<void>;
}

type Full = AuditRecord & { id: string; at: string };

function parseOutbox(text: string, logger: Logger): Full[] {
  const events: Full[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as Full);
    } catch {
      // A line torn by a crash mid-append: the event was never acknowledged to anyone, drop it.
      logger.warn('audit outbox: unreadable line dropped');
    }
  }
  return events;
}

/** audit-log refused the event itself (schema, secret in detail): retrying cannot help. */
const isRefusal = (status: number) => status === 400 || status === 422;

/** The JSONL outbox and its drain loop; see createAuditSink. */
class OutboxSink implements AuditSink {
  private disk: Promise<void> = Promise.resolve();
  /** Tasks in the disk queue not yet finished: while there is one, appends wait behind it. */
  private diskTasks = 0;
  /**
   * The outbox's descriptor, open for appending between appends; closed when a compaction replaces the file.
   * Appends are synchronous: a line into the page cache costs a few µs, where a write through libuv's thread
   * pool cost the event loop 10–25 µs more, and the gateway records an event for every run and sign-in
   * (6 % of its CPU in a profile of either, issue 22).
   */
  private appender: number | undefined;
  /** Lines recorded while the disk queue was busy, appended together once it is done. */
  private unwritten: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<boolean> | undefined;
  private backoffMs = 0;
  private closed = false;

  constructor(
    private readonly options: AuditSinkOptions,
    private readonly queue: Full[],
  ) {
    if (queue.length > 0) this.schedule(0);
  }

  record(event: AuditRecord): void {
    try {
      const full: Full = { ...event, id: event.id ?? randomUUID(), at: event.at ?? new Date().toISOString() };
      this.queue.push(full);
      this.unwritten.push(`${JSON.stringify(full)}\n`);
      // Lines left unwritten always have a disk task behind which they wait; none busy, none left.
      if (this.diskTasks === 0) this.writeUnwritten();
      else if (this.unwritten.length === 1) void this.onDisk(async () => this.writeUnwritten());
      if (!this.draining) this.schedule(this.delayMs());
    } catch (error) {
      this.options.logger.error({ err: error }, 'audit event not recorded');
    }
  }

  async flush(): Promise<void> {
    await this.disk;
    while (this.draining) await this.draining;
    if (!(await this.drain())) throw new Error('audit-log unreachable; events kept in the outbox');
  }

  pending(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.disk;
    while (this.draining) await this.draining;
    if (this.queue.length > 0) await this.drain();
    await this.disk;
    await this.onDisk(async () => this.closeAppender());
  }

  /**
   * Appends the lines recorded so far to the outbox; a failed write closes the file, so the next one opens it
   * anew. The events stay queued for audit-log either way.
   */
  private writeUnwritten(): void {
    const text = this.unwritten.join('');
    this.unwritten = [];
    if (!text) return;
    try {
      this.appender ??= openSync(this.options.outboxFile, 'a', 0o600);
      writeSync(this.appender, text);
    } catch (error) {
      this.closeAppender();
      this.options.logger.error({ err: error }, 'audit outbox write failed');
    }
  }

  private closeAppender(): void {
    const fd = this.appender;
    this.appender = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }

  /** File operations run one after another, so appends and rewrites never interleave. */
  private onDisk(task: () => Promise<void>): Promise<void> {
    this.diskTasks += 1;
    this.disk = this.disk
      .then(task)
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'audit outbox write failed'))
      .finally(() => {
        this.diskTasks -= 1;
      });
    return this.disk;
  }

  private async post(events: Full[]): Promise<number> {
    const url = typeof this.options.url === 'function' ? this.options.url() : this.options.url;
    const response = await sendRequest(new URL('/events', url), {
      method: 'POST',
      headers: { [SERVICE_TOKEN_HEADER]: this.options.serviceToken, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      timeoutMs: this.options.timeoutMs ?? 5_000,
    });
    return response.status;
  }

  /** Sends a refused batch one event at a time, so one bad event cannot hold back the others. */
  private async sendSingly(batch: Full[]): Promise<void> {
    for (const event of batch) {
      const status = await this.post([event]);
      if (isRefusal(status)) {
        this.options.logger.error(
          { auditEventId: event.id, action: event.action, status },
          'audit event refused, dropped',
        );
      } else if (status !== 200) throw new Error(`audit-log answered ${status}`);
    }
  }

  /**
   * Rewrites the outbox as the events not yet accepted (by rename, so a crash
   * leaves the old or the new file, never half of one). Runs in the disk
   * queue, so it sees every event recorded so far and supersedes their appends.
   */
  private compact(): Promise<void> {
    const file = this.options.outboxFile;
    return this.onDisk(async () => {
      this.unwritten = [];
      await writeFile(`${file}.tmp`, this.queue.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
      await rename(`${file}.tmp`, file);
      // Appends go to the new file from now on.
      this.closeAppender();
    });
  }

  private async sendAll(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    let sinceCompaction = 0;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, batchSize);
      const status = await this.post(batch);
      if (isRefusal(status)) await this.sendSingly(batch);
      else if (status !== 200) throw new Error(`audit-log answered ${status}`);
      this.queue.splice(0, batch.length);
      // Rewriting after every batch would cost O(backlog²) in a long outage; an accepted event left in the
      // file is only sent again after a crash, and audit-log ignores it then.
      sinceCompaction += 1;
      if (this.queue.length === 0 || sinceCompaction >= 20) {
        await this.compact();
        sinceCompaction = 0;
      }
    }
  }

  private drain(): Promise<boolean> {
    this.draining ??= this.sendAll()
      .then(() => {
        this.backoffMs = 0;
        return true;
      })
      .catch((error: unknown) => {
        const { minBackoffMs = 250, maxBackoffMs = 30_000 } = this.options;
        this.backoffMs = Math.min(Math.max(this.backoffMs * 2, minBackoffMs), maxBackoffMs);
        this.options.logger.warn(
          { err: (error as Error).message, pending: this.queue.length, retryInMs: this.backoffMs },
          'audit-log unreachable',
        );
        return false;
      })
      .finally(() => {
        this.draining = undefined;
        if (!this.closed && this.queue.length > 0) this.schedule(this.delayMs());
      });
    return this.draining;
  }

  /** Until the next send: the backoff after a failure, else the linger that gathers a batch. */
  private delayMs(): number {
    return Math.max(this.backoffMs, this.options.lingerMs ?? DEFAULT_LINGER_MS);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
    this.timer.unref();
  }
}

/**
 * The client side of the audit log. `record` appends the event to a local
 * JSONL outbox (one write queue, so lines never interleave) and a background
 * loop posts the outbox to audit-log in batches, removing what was accepted
 * and backing off while audit-log is unreachable. audit-log ignores ids it
 * already has, so a batch sent twice (crash between send and trim) is harmless.
 * Events left in the outbox by an earlier run are sent first.
 */
export async function createAuditSink(options: AuditSinkOptions): Promise<AuditSink> {
  await mkdir(dirname(options.outboxFile), { recursive: true, mode: 0o700 });
  const text = await readFile(options.outboxFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return new OutboxSink(options, parseOutbox(text, options.logger));
}
