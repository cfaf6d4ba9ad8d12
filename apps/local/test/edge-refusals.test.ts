import { randomUUID } from 'node:crypto';
import { rawExchange } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardenedPlatform, startHardenedPlatform } from './hardening-platform.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('every refusal of the gateway is problem+json with a stable code', () => {
  let platform: HardenedPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await startHardenedPlatform({ BODY_LIMIT_BYTES: 2048 });
    token = await platform.tokenFor(randomUUID(), 'learner');
  });
  afterAll(async () => platform.close());

  const send = (path: string, contentType: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${platform.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType, ...headers },
      body,
    });

  async function expectProblem(response: Response, status: number, code: string, instance?: string) {
    expect(response.status, code).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Record<string, any>;
    expect(body).toMatchObject({ status, code, type: `urn:taidon:problem:${code}` });
    if (instance) expect(body.instance).toBe(instance);
    return body;
  }

  it('answers bodies it cannot take with 415, 400 and 413, each with its own code', async () => {
    await expectProblem(
      await send('/api/plan', 'application/x-www-form-urlencoded', 'sql=select+1'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      '/api/plan',
    );
    await expectProblem(await send('/api/plan', 'application/json', '{"sql":'), 400, 'INVALID_JSON', '/api/plan');
    await expectProblem(await send('/api/plan', 'application/json', ''), 400, 'INVALID_JSON');
    const poisoned = await expectProblem(
      await send('/api/plan', 'application/json', '{"sql":"select 1","__proto__":{"admin":true}}'),
      400,
      'FORBIDDEN_JSON_KEY',
      '/api/plan',
    );
    expect(poisoned.detail).toContain('__proto__');
    await expectProblem(
      await send('/api/auth/login', 'application/json', JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(4096) })),
      413,
      'PAYLOAD_TOO_LARGE',
      '/api/auth/login',
    );
  });

  it("answers Node's own refusals (headers over 16 KiB, not HTTP) with problem+json", async () => {
    const big = await rawExchange(
      platform.gatewayUrl,
      `GET /health/ready HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(big.status).toBe(431);
    expect(big.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(big.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE', status: 431 });
    const garbage = await rawExchange(platform.gatewayUrl, 'GET / SPDY/9\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(garbage.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(garbage.body)).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('names the public path in problems passed through from services', async () => {
    const plan = await expectProblem(
      await send('/api/plan', 'application/json', JSON.stringify({ sql: 'SELEC 1;' })),
      422,
      'SQL_RUNNER_SYNTAX_ERROR',
      '/api/plan',
    );
    expect(plan.line).toBe(1);
    // This sql-runner plans only: its runs routes answer its own 404, naming its own path.
    const runId = randomUUID();
    await expectProblem(
      await send(`/api/runs/${runId}/cancel`, 'application/json', '{}'),
      404,
      'NOT_FOUND',
      `/api/runs/${runId}/cancel`,
    );
    // A run refused before its stream starts: read whole and made public too.
    await expectProblem(
      await send('/api/runs', 'application/json', JSON.stringify({ head: 'SELECT 1;' })),
      404,
      'NOT_FOUND',
      '/api/runs',
    );
    // From idp, through the sign-in routes.
    const login = await fetch(`${platform.gatewayUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password' }),
    });
    await expectProblem(login, 401, 'IDP_INVALID_CREDENTIALS', '/api/auth/login');
  });

  it('replaces a request id not in the documented form, in the answer, the logs and the calls to services', async () => {
    for (const given of ['x'.repeat(1024), '<script>alert(1)</script>']) {
      const response = await send('/api/plan', 'application/json', JSON.stringify({ sql: 'select 1' }), {
        'x-request-id': given,
      });
      expect(response.status).toBe(200);
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      const gateway = platform.logLines('gateway').filter((l) => l.includes(id));
      const runner = platform.logLines('sql-runner').filter((l) => l.includes(id));
      expect(gateway.length).toBeGreaterThan(0);
      // The new id is the one passed on: sql-runner's lines of the same request carry it.
      expect(runner.length).toBeGreaterThan(0);
      for (const line of platform.logLines()) expect(line).not.toContain(given);
    }
    const kept = await send('/api/plan', 'application/json', JSON.stringify({ sql: 'select 1' }), {
      'x-request-id': 'trace-42.a:b_c',
    });
    expect(kept.headers.get('x-request-id')).toBe('trace-42.a:b_c');
  });
});
