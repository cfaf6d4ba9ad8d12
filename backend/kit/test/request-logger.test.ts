import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { createBaseApp } from '../src/base-app.js';
import { createLogger } from '../src/logger.js';

// fastify made a pino child for every request before anything was logged; a request's logger now makes it on
// its first line (issue 22). The lines are the child's: same fields, same redaction.

function appAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ service: 'test', level, destination });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<Logger['child']>) => {
    children++;
    return child(...args);
  }) as Logger['child'];
  const app = createBaseApp({ service: 'test', logger });
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/warns', async (request) => {
    request.log.warn({ token: 'secret-token', attempt: 2 }, 'something to see');
    return { ok: true };
  });
  app.get('/fails', async () => {
    throw new Error('boom');
  });
  // Counted from here on: fastify makes children of its own while it starts.
  const counted = async () => {
    await app.ready();
    children = 0;
  };
  return { app, lines, children: () => children, counted };
}

describe("a request's logger", () => {
  it('makes no child logger for a request that writes no line', async () => {
    const { app, lines, children, counted } = appAt('warn');
    await counted();
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/quiet' })).statusCode).toBe(200);
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    await app.close();
  });

  it("writes a line with the request's id and the redaction, through one child", async () => {
    const { app, lines, children, counted } = appAt('warn');
    await counted();
    const answer = await app.inject({ method: 'GET', url: '/warns', headers: { 'x-request-id': 'req-log-1' } });
    expect(answer.statusCode).toBe(200);
    expect(children()).toBe(1);
    expect(lines).toMatchObject([
      { level: 40, service: 'test', reqId: 'req-log-1', token: '[redacted]', attempt: 2, msg: 'something to see' },
    ]);
    const failed = await app.inject({ method: 'GET', url: '/fails', headers: { 'x-request-id': 'req-log-2' } });
    expect(failed.statusCode).toBe(500);
    expect(lines.filter((l) => l.reqId === 'req-log-2' && l.level === 50).length).toBeGreaterThan(0);
    await app.close();
  });

  it("writes fastify's request lines at level info, as before", async () => {
    const { app, lines } = appAt('info');
    await app.inject({ method: 'GET', url: '/quiet', headers: { 'x-request-id': 'req-log-3' } });
    expect(lines.filter((l) => l.reqId === 'req-log-3').map((l) => l.msg)).toEqual([
      'incoming request',
      'request completed',
    ]);
    await app.close();
  });
});
