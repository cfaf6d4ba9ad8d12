import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createBaseApp } from '../src/base-app.js';
import { DomainError, UnprocessableError } from '../src/errors.js';
import { EVENT_LOOP_RESOLUTION_MS } from '../src/metrics.js';
import { createTestDatabase } from '../src/testing/database.js';
import { captureLogger } from '../src/testing/logs.js';

function app() {
  const logs = captureLogger('test');
  const instance = createBaseApp({ service: 'test', logger: logs.logger });
  instance.get('/domain', async () => {
    throw new UnprocessableError('TEST_BAD_THING', 'The thing is bad.', { line: 3, column: 7 });
  });
  instance.get('/conflict', async () => {
    throw new DomainError('TEST_CONFLICT', 'Already there.', { statusCode: 409 });
  });
  instance.get('/crash', async () => {
    throw new Error('secret internal detail: password=hunter2');
  });
  instance.post(
    '/echo',
    { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } },
    async (request) => request.body,
  );
  return { instance, logs };
}

describe('createBaseApp', () => {
  it('maps a DomainError to problem+json with its code, status and extensions', async () => {
    const { instance } = app();
    const response = await instance.inject({ method: 'GET', url: '/domain', headers: { 'x-request-id': 'req-1' } });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['x-request-id']).toBe('req-1');
    expect(response.json()).toEqual({
      type: 'urn:taidon:problem:TEST_BAD_THING',
      code: 'TEST_BAD_THING',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'The thing is bad.',
      line: 3,
      column: 7,
      instance: '/domain',
      requestId: 'req-1',
    });
    const conflict = await instance.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
  });

  it('answers 503 UNAVAILABLE with Retry-After when every database connection stays busy', async () => {
    const db = await createTestDatabase('pool');
    const pool = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 200 });
    const { instance, logs } = app();
    instance.get('/db', async () => (await pool.query('SELECT 1 AS one')).rows[0]);
    const held = await pool.connect();
    try {
      const response = await instance.inject({ method: 'GET', url: '/db' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
      expect(logs.lines().join('\n')).toMatch(/connection pool exhausted/);
    } finally {
      held.release();
    }
    // Once a connection is free again, the same route answers.
    expect((await instance.inject({ method: 'GET', url: '/db' })).json()).toEqual({ one: 1 });
    await pool.end();
    await db.drop();
  });

  it('hides the cause of a 500 from the body and logs it with the request id', async () => {
    const { instance, logs } = app();
    const response = await instance.inject({ method: 'GET', url: '/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(response.json()).toMatchObject({ code: 'INTERNAL', status: 500 });
    const line = logs
      .lines()
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'unhandled error');
    expect(line.reqId).toBe(response.json().requestId);
    expect(line.err.message).toContain('secret internal detail');
  });

  it('answers schema violations with 400 VALIDATION_FAILED listing each problem', async () => {
    const { instance } = app();
    const response = await instance.inject({ method: 'POST', url: '/echo', payload: { n: 'x' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: '/n' }] });
  });

  it('answers unknown routes and malformed JSON with problem+json', async () => {
    const { instance } = app();
    const missing = await instance.inject({ method: 'GET', url: '/nope?x=1' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND', detail: 'No route for GET /nope.' });
    const broken = await instance.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"n":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('INVALID_JSON');
  });

  it('answers each refusal of a body with its own code', async () => {
    const { instance } = app();
    const send = (contentType: string, payload: string) =>
      instance.inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload });
    const cases = [
      { response: await send('application/x-www-form-urlencoded', 'n=1'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { response: await send('application/json', ''), status: 400, code: 'INVALID_JSON' },
      { response: await send('application/json', '{"n":1,'), status: 400, code: 'INVALID_JSON' },
      {
        response: await send('application/json', '{"n":1,"__proto__":{"x":1}}'),
        status: 400,
        code: 'FORBIDDEN_JSON_KEY',
      },
      {
        response: await send('application/json', '{"n":1,"\\u005f_proto__":{"x":1}}'),
        status: 400,
        code: 'FORBIDDEN_JSON_KEY',
      },
      {
        response: await send('application/json', '{"n":1,"constructor":{"prototype":{"x":1}}}'),
        status: 400,
        code: 'FORBIDDEN_JSON_KEY',
      },
      {
        response: await send('application/json', `{"n":"${'x'.repeat(1024 * 1024)}"}`),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
    ];
    for (const { response, status, code } of cases) {
      expect(response.statusCode, code).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ code, status, type: `urn:taidon:problem:${code}`, instance: '/echo' });
    }
    // The message names the key, not a parse failure.
    expect(cases[3]?.response.json().detail).toContain('__proto__');
    // A body that only mentions the key as a value is fine.
    expect((await send('application/json', '{"n":1,"note":"__proto__"}')).statusCode).toBe(200);
  });

  it('keeps a request id of the documented form and replaces any other, in the answer and the logs', async () => {
    const { instance, logs } = app();
    const kept = await instance.inject({ method: 'GET', url: '/domain', headers: { 'x-request-id': 'abc-123.x:y_z' } });
    expect(kept.headers['x-request-id']).toBe('abc-123.x:y_z');
    for (const given of ['a'.repeat(1024), '<script>alert(1)</script>', 'two words', '']) {
      const response = await instance.inject({ method: 'GET', url: '/domain', headers: { 'x-request-id': given } });
      const id = response.headers['x-request-id'] as string;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(response.json().requestId).toBe(id);
      const lines = logs.lines().filter((l) => l.includes(id));
      expect(lines.length).toBeGreaterThan(0);
      if (given) for (const line of logs.lines()) expect(line).not.toContain(given);
    }
  });

  it('serves health and per-route metrics', async () => {
    const { instance } = app();
    expect((await instance.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await instance.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    await instance.inject({ method: 'GET', url: '/domain' });
    const metrics = (await instance.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(
      'taidon_http_requests_total{method="GET",route="/domain",status_code="422",service="test"} 1',
    );
    expect(metrics).toContain('taidon_process_cpu_seconds_total');
  });

  it('reports a stalled event loop in its lag metrics', async () => {
    const { instance } = app();
    const lagMax = async () => {
      const body = (await instance.inject({ method: 'GET', url: '/metrics' })).body;
      const line = body.split('\n').find((l) => l.startsWith('taidon_nodejs_eventloop_lag_max_seconds'));
      return Number(line?.split(' ').at(-1));
    };
    await lagMax(); // a scrape resets the histogram
    await new Promise((resolve) => setTimeout(resolve, 3 * EVENT_LOOP_RESOLUTION_MS));
    const until = performance.now() + 250;
    while (performance.now() < until) {
      // the loop held for 250 ms
    }
    await new Promise((resolve) => setTimeout(resolve, 3 * EVENT_LOOP_RESOLUTION_MS));
    expect(await lagMax()).toBeGreaterThanOrEqual(0.2);
  });

  it('redacts credentials and SQL passed to the logger', async () => {
    const { logs } = app();
    logs.logger.info(
      {
        sql: 'select secret',
        password: 'p4ss',
        nested: { token: 't0k', sql: 'drop x' },
        headers: { authorization: 'Bearer abc' },
      },
      'x',
    );
    const line = logs.lines().at(-1) ?? '';
    for (const secret of ['select secret', 'p4ss', 't0k', 'drop x', 'Bearer abc']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });
});
