import { connect } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATHER_CHARS, GATHER_MS, openRunStream } from '../../src/routes/run-stream.js';

/** The bytes of a raw HTTP exchange as the socket delivered them: one entry per read. */
async function reads(port: number, path: string): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  const chunks: string[] = [];
  socket.on('data', (chunk) => chunks.push(chunk.toString('utf8')));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n`);
  await new Promise((resolve) => socket.once('close', resolve));
  return chunks;
}

describe('a run stream (NDJSON answer of POST /runs)', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = Fastify();
    // A REPL run's events, each a turn of the event loop after the one before, as pg's answers space them.
    app.get('/quick', async (_request, reply) => {
      const stream = openRunStream(reply, 'req-1', performance.now());
      stream.emit({ type: 'started', runId: 'r', sessionId: 's' });
      await nextTurn();
      stream.emit({ type: 'progress', phase: 'execute' });
      await nextTurn();
      stream.emit({ type: 'complete', statement: 0, command: 'SELECT', rowCount: 1, truncated: false });
      await nextTurn();
      stream.end();
    });
    // A small result: its rows come a few ms before the run's end (the portal's close, the run's record).
    app.get('/small', async (_request, reply) => {
      const stream = openRunStream(reply, 'req-4', performance.now());
      stream.emit({ type: 'started', runId: 'r', sessionId: 's' });
      await nextTurn();
      stream.emit({ type: 'resultset', statement: 0, columns: [{ name: 'n', type: 'int4' }] });
      stream.emit({ type: 'rows', statement: 0, rows: [['1'], ['2'], ['3']] });
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS / 2));
      stream.emit({ type: 'complete', statement: 0, command: 'SELECT', rowCount: 3, truncated: false });
      await nextTurn();
      stream.end();
    });
    // A run that takes a while: its first events are not held until the end.
    app.get('/slow', async (_request, reply) => {
      const stream = openRunStream(reply, 'req-2', performance.now());
      stream.emit({ type: 'started', runId: 'r', sessionId: 's' });
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS * 20));
      stream.end();
    });
    // A large result: its rows are written once they pass GATHER_CHARS, not gathered without bound.
    app.get('/large', async (_request, reply) => {
      const stream = openRunStream(reply, 'req-3', performance.now());
      const row = ['x'.repeat(1000)];
      for (let i = 0; i < 40; i++) stream.emit({ type: 'rows', statement: 0, rows: [row] });
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS * 20));
      stream.end();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it('writes the head and the events of a quick run together, with the end', async () => {
    const chunks = await reads(port, '/quick');
    // Before, the head went alone (flushHeaders) and every event had a write of its own: four or more reads.
    expect(chunks).toHaveLength(1);
    const body = chunks.join('');
    expect(body).toMatch(/^HTTP\/1\.1 200 /);
    expect(body).toContain('"type":"started"');
    expect(body).toContain('"type":"complete"');
    expect(body.endsWith('0\r\n\r\n')).toBe(true);
  });

  it("writes a statement's first rows at once, the events after them gathered with the end", async () => {
    const chunks = await reads(port, '/small');
    // Before, the rows waited for the end (within GATHER_MS): one read.
    expect(chunks).toHaveLength(2);
    const [first = '', last = ''] = chunks;
    expect(first).toContain('"type":"rows"');
    expect(first).not.toContain('"type":"complete"');
    expect(last).toContain('"type":"complete"');
    expect(last.endsWith('0\r\n\r\n')).toBe(true);
  });

  it('writes events within GATHER_MS while the run goes on', async () => {
    const chunks = await reads(port, '/slow');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]).toContain('"type":"started"');
  });

  it('writes gathered rows once they pass GATHER_CHARS', async () => {
    const chunks = await reads(port, '/large');
    const body = chunks.join('');
    expect(body.length).toBeGreaterThan(40 * 1000);
    // Most of the rows left before the run's end (the last read holds only what followed the last flush).
    const last = chunks.at(-1) ?? '';
    expect(last.length).toBeLessThan(GATHER_CHARS + 1000);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
  });
});
