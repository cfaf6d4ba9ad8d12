import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBaseApp } from '../src/base-app.js';
import { addressKey, type ConnectionLimits } from '../src/connection-limits.js';
import { captureLogger } from '../src/testing/logs.js';
import { openRaw, type RawAnswer, rawExchange } from '../src/testing/raw-http.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A base app on a loopback port with `limits`, a JSON echo route and a slow NDJSON stream. */
async function serve(limits: Partial<ConnectionLimits> = {}) {
  const logs = captureLogger('edge');
  const app = createBaseApp({ service: 'edge', logger: logs.logger, limits });
  app.post('/echo', async (request) => ({ got: request.body }));
  // A response longer than the request timeout: only receiving the request is bounded.
  app.get('/stream', async (_request, reply) => {
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    let n = 0;
    const timer = setInterval(() => {
      out.write(`${JSON.stringify({ n })}\n`);
      if (++n === 6) {
        clearInterval(timer);
        out.end();
      }
    }, 250);
    return reply.type('application/x-ndjson').send(out);
  });
  apps.push(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, logs };
}

function expectProblem(answer: RawAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  const body = JSON.parse(answer.body);
  expect(body).toMatchObject({ status, code, type: `urn:taidon:problem:${code}` });
  expect(body.requestId).toBe(answer.headers['x-request-id']);
  return body;
}

describe('timeouts of a request being received', () => {
  it('closes a body that stops short of its Content-Length with 408 REQUEST_TIMEOUT', async () => {
    const { url } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const answer = await rawExchange(
      url,
      'POST /echo HTTP/1.1\r\nHost: x\r\nX-Request-Id: slow-body-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    // The request's headers were read: the refusal carries its id, as its log lines do.
    expect(expectProblem(answer, 408, 'REQUEST_TIMEOUT').requestId).toBe('slow-body-1');
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(550);
    expect(answer.closedAfterMs).toBeLessThan(5_000);
  });

  it('closes a never-ending chunked body within the request timeout', async () => {
    const { url } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 800 });
    const held = await openRaw(
      url,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    // A chunk every 100 ms: the connection is never idle, only too slow to finish. Bounds are generous: the
    // machine is shared, and what matters is that it closes at all (before, it was held for 400 s).
    const drip = setInterval(() => held.socket.write('1\r\n \r\n'), 100);
    try {
      const answer = await held.closed;
      expectProblem(answer, 408, 'REQUEST_TIMEOUT');
      expect(answer.closedAfterMs).toBeLessThan(5_000);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes headers that never end with 408, and a connection that never sends a byte', async () => {
    const { url } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 5_000 });
    const slow = await openRaw(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const silent = await openRaw(url, '');
    const [slowAnswer, silentAnswer] = await Promise.all([slow.closed, silent.closed]);
    expectProblem(slowAnswer, 408, 'REQUEST_TIMEOUT');
    expect(slowAnswer.closedAfterMs).toBeLessThan(5_000);
    expect(silentAnswer.closedAfterMs).toBeLessThan(5_000);
  });

  it('does not cut a streamed response that lasts longer than the request timeout', async () => {
    const { url } = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const started = performance.now();
    const response = await fetch(`${url}/stream`);
    const lines = (await response.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(6);
    expect(performance.now() - started).toBeGreaterThan(1_000);
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const { url } = await serve({ keepAliveTimeoutMs: 400 });
    const connection = await openRaw(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const answer = await connection.closed;
    expect(answer.status).toBe(200);
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(350);
    expect(answer.closedAfterMs).toBeLessThan(5_000);
  });
});

describe("Node's own refusals", () => {
  it('answers headers over 16 KiB with 431 HEADERS_TOO_LARGE', async () => {
    const { url } = await serve();
    const answer = await rawExchange(
      url,
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectProblem(answer, 431, 'HEADERS_TOO_LARGE');
  });

  it('answers a malformed request line with 400 BAD_REQUEST', async () => {
    const { url } = await serve();
    const answer = await rawExchange(url, 'HELLO THERE\r\n\r\n');
    expectProblem(answer, 400, 'BAD_REQUEST');
  });
});

describe('connection caps', () => {
  it('refuses a connection over the per-address cap with 503 and Retry-After, and takes one again once a slot frees', async () => {
    const { app, url } = await serve({ maxConnectionsPerAddress: 3, maxConnections: 100 });
    const held = await Promise.all(
      [1, 2, 3].map(() => openRaw(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n', '127.0.0.2')),
    );
    const refused = await rawExchange(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.2');
    const body = expectProblem(refused, 503, 'TOO_MANY_CONNECTIONS');
    expect(refused.headers['retry-after']).toBe('5');
    expect(body.retryAfterSeconds).toBe(5);
    expect(refused.closedAfterMs).toBeLessThan(3_000);
    // Another address is not affected.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    held[0]?.socket.destroy();
    await held[0]?.closed;
    await new Promise((r) => setTimeout(r, 50));
    const again = await rawExchange(
      url,
      'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      '127.0.0.2',
    );
    expect(again.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/taidon_http_connections_refused_total\{reason="address",service="edge"\} 1/);
    for (const h of held) h.socket.destroy();
    await app.close();
  });

  it('refuses a connection over the total cap', async () => {
    const { url } = await serve({ maxConnections: 2 });
    const held = await Promise.all([1, 2].map(() => openRaw(url, '')));
    const refused = await rawExchange(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expectProblem(refused, 503, 'TOO_MANY_CONNECTIONS');
    for (const h of held) h.socket.destroy();
  });
});

describe('idle kept-alive connections at a cap', () => {
  /** A kept-alive connection that has finished one request and now sits idle. */
  async function idleKeptAlive(url: string, localAddress?: string) {
    const connection = await openRaw(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', localAddress);
    await new Promise<void>((resolve) => {
      let seen = '';
      connection.socket.on('data', (chunk: string) => {
        seen += chunk;
        if (seen.includes('"status"')) resolve();
      });
    });
    return connection;
  }

  it('closes the longest-idle one to admit a new client at the total cap, and refuses when none is idle', async () => {
    const { url } = await serve({ maxConnections: 2 });
    const first = await idleKeptAlive(url, '127.0.0.2');
    await new Promise((r) => setTimeout(r, 20));
    const second = await idleKeptAlive(url, '127.0.0.3');
    // A third client, from another address: the cap is full of idle connections, the oldest makes room.
    const admitted = await rawExchange(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(admitted.status).toBe(200);
    expect((await first.closed).closedAfterMs).toBeGreaterThan(0);
    expect(second.socket.destroyed).toBe(false);
    // Connections in the middle of a request are not idle: nothing makes room for a third one.
    const halfSent = await Promise.all([1, 2].map(() => openRaw(url, 'GET /health/live HTTP/1.1\r\n')));
    await new Promise((r) => setTimeout(r, 50));
    const refused = await rawExchange(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expectProblem(refused, 503, 'TOO_MANY_CONNECTIONS');
    for (const c of [second, ...halfSent]) c.socket.destroy();
  });

  it('admits one newcomer per idle connection in a burst, and refuses the rest', async () => {
    const { url } = await serve({ maxConnectionsPerAddress: 2, maxConnections: 100 });
    const idle = await idleKeptAlive(url, '127.0.0.2');
    const busy = await openRaw(url, 'GET /health/live HTTP/1.1\r\n', '127.0.0.2');
    await new Promise((r) => setTimeout(r, 50));
    // Five at once, accepted in one turn of the loop (this test's server shares its loop: held busy while the
    // kernel completes the handshakes), before the displaced connection's close is seen.
    const opening = Array.from({ length: 5 }, () => openRaw(url, 'GET /health/live HTTP/1.1\r\n', '127.0.0.2'));
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // busy: no event is handled meanwhile
    }
    const burst = await Promise.all(opening);
    const answers = await Promise.all(
      burst.map((c) => Promise.race([c.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_500))])),
    );
    // One took the idle connection's place and is still open (half-sent); four were refused.
    expect(answers.filter((a) => a?.status === 503)).toHaveLength(4);
    expect(answers.filter((a) => a === undefined)).toHaveLength(1);
    await idle.closed;
    for (const c of [busy, ...burst]) c.socket.destroy();
  });

  it('at the per-address cap, closes an idle one of that address only', async () => {
    const { url } = await serve({ maxConnectionsPerAddress: 1, maxConnections: 100 });
    const other = await idleKeptAlive(url, '127.0.0.3');
    const mine = await idleKeptAlive(url, '127.0.0.2');
    const again = await rawExchange(
      url,
      'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      '127.0.0.2',
    );
    expect(again.status).toBe(200);
    await mine.closed;
    expect(other.socket.destroyed).toBe(false);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/taidon_http_connections_evicted_total\{service="edge"\} 1/);
    other.socket.destroy();
  });
});

describe('the listen backlog', () => {
  it('is the configured one whoever calls listen', async () => {
    const { url } = await serve({ listenBacklog: 1000 });
    const port = new URL(url).port;
    // ss shows a listening socket's backlog as its Send-Q.
    const { stdout } = await promisify(execFile)('ss', ['-ltnH', `sport = :${port}`], { timeout: 5_000 });
    expect(stdout.trim().split(/\s+/)[2]).toBe('1000');
  });
});

describe('addressKey', () => {
  it('counts IPv4 as is, IPv4-mapped IPv6 as IPv4 and IPv6 by its /64', () => {
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
