import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardenedPlatform, startHardenedPlatform } from './hardening-platform.js';
import { post } from './platform.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('gateway rate limits', () => {
  let platform: HardenedPlatform;

  beforeAll(async () => {
    platform = await startHardenedPlatform({
      RATE_LIMIT_IP_MAX: 3,
      RATE_LIMIT_ACCOUNT_MAX: 4,
      RATE_LIMIT_WINDOW_SECONDS: 30,
    });
  });
  afterAll(async () => platform.close());

  it('answers 429 problem+json with Retry-After once one address exceeds the public routes limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${platform.gatewayUrl}/api/openapi.json`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    // Sign-in counts against the same address budget, before idp is asked anything.
    const limited = await post(`${platform.gatewayUrl}/api/auth/anonymous`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ code: 'GATEWAY_RATE_LIMITED', status: 429 });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(limited.body.retryAfterSeconds).toBe(retryAfter);
  });

  it('counts authenticated routes per account: one account limited, another from the same address not', async () => {
    const a = await platform.tokenFor(randomUUID(), 'learner');
    const b = await platform.tokenFor(randomUUID(), 'learner');
    const plan = (token: string) => post(`${platform.gatewayUrl}/api/plan`, { sql: 'select 1' }, bearer(token));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await plan(a)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const limited = await plan(a);
    expect(limited.body.code).toBe('GATEWAY_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const other = await plan(b);
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-remaining')).toBe('3');
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const preflight = await fetch(`${platform.gatewayUrl}/api/plan`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('gateway security headers, CORS, body limit, request ids, audit events and logs', () => {
  let platform: HardenedPlatform;
  let token: string;
  const learnerId = randomUUID();

  beforeAll(async () => {
    platform = await startHardenedPlatform({ CORS_ORIGINS: 'https://teach.example', BODY_LIMIT_BYTES: 2048 });
    token = await platform.tokenFor(learnerId, 'learner');
  });
  afterAll(async () => platform.close());

  it('sets security headers with a CSP that admits only our own origin', async () => {
    const response = await fetch(`${platform.gatewayUrl}/api/openapi.json`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it("sends helmet's whole set of headers, the same on an answer, a refusal, an unknown path and a run's answer", async () => {
    const expected = {
      'content-security-policy':
        "default-src 'self';script-src 'self';worker-src 'self' blob:;style-src 'self' 'unsafe-inline';" +
        "img-src 'self' data:;font-src 'self' data:;connect-src 'self';object-src 'none';base-uri 'self';" +
        "form-action 'self';frame-ancestors 'none'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    // An account of its own: the audit test below counts the runs of `token`'s.
    const runner = await platform.tokenFor(randomUUID(), 'learner');
    const answers = [
      await fetch(`${platform.gatewayUrl}/api/openapi.json`),
      await fetch(`${platform.gatewayUrl}/api/plan`, { method: 'POST' }),
      await fetch(`${platform.gatewayUrl}/api/no-such-route`),
      await fetch(`${platform.gatewayUrl}/api/runs`, {
        method: 'POST',
        headers: { ...bearer(runner), 'content-type': 'application/json' },
        body: JSON.stringify({ head: 'SELECT 1' }),
      }),
    ];
    // This platform's sql-runner has no sandboxes: the run's answer is whatever it refuses with.
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 401, 404]);
    for (const answer of answers) {
      await answer.arrayBuffer();
      const sent = Object.fromEntries(Object.keys(expected).map((name) => [name, answer.headers.get(name)]));
      expect(sent).toEqual(expected);
      expect(answer.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers CORS only for the listed origins', async () => {
    const ask = (origin: string) =>
      fetch(`${platform.gatewayUrl}/api/plan`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    expect((await ask('https://teach.example')).headers.get('access-control-allow-origin')).toBe(
      'https://teach.example',
    );
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413 problem+json', async () => {
    const response = await post(`${platform.gatewayUrl}/api/auth/anonymous`, { padding: 'x'.repeat(4096) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('carries one request id from the gateway to sql-runner, given or made', async () => {
    const given = `trace-${randomUUID()}`;
    const response = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'select 1' },
      { ...bearer(token), 'x-request-id': given },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(given);
    const made = await post(`${platform.gatewayUrl}/api/plan`, { sql: 'select 2' }, bearer(token));
    const madeId = made.headers.get('x-request-id') as string;
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);
    for (const id of [given, madeId]) {
      for (const service of ['gateway', 'sql-runner'] as const) {
        const lines = platform.logLines(service).map((l) => JSON.parse(l));
        expect(
          lines.some((l) => l.reqId === id),
          `${service} logged ${id}`,
        ).toBe(true);
      }
    }
  });

  it('records an anonymous sign-in with the new account, the address and the request id', async () => {
    const signIn = await post(`${platform.gatewayUrl}/api/auth/anonymous`);
    expect(signIn.status).toBe(201);
    const claims = JSON.parse(Buffer.from(signIn.body.accessToken.split('.')[1], 'base64url').toString('utf8'));
    await platform.auditDrained();
    const { rows } = await platform.auditPool.query(
      `SELECT account_id, ip, request_id, detail FROM audit_events WHERE action = 'sign-in'`,
    );
    expect(rows).toEqual([
      {
        account_id: claims.sub,
        ip: '127.0.0.1',
        request_id: signIn.headers.get('x-request-id'),
        detail: { method: 'anonymous' },
      },
    ]);
    // The id crossed every hop of the sign-in: gateway, idp, user-profile (none keeps a context for it).
    for (const service of ['gateway', 'idp', 'user-profile'] as const) {
      const lines = platform.logLines(service).map((l) => JSON.parse(l));
      expect(
        lines.some((l) => l.reqId === signIn.headers.get('x-request-id')),
        `${service} logged the sign-in's id`,
      ).toBe(true);
    }
  });

  it('records a sign-up with its account and a failed sign-in with its method, never the password', async () => {
    const email = `learner-${randomUUID().slice(0, 8)}@example.com`;
    const password = `pw-${randomUUID()}`;
    const signUp = await post(`${platform.gatewayUrl}/api/auth/signup`, { email, password });
    expect(signUp.status).toBe(201);
    const sub = JSON.parse(Buffer.from(signUp.body.accessToken.split('.')[1], 'base64url').toString('utf8')).sub;
    const failed = await post(`${platform.gatewayUrl}/api/auth/login`, { email, password: `${password}-wrong` });
    expect(failed.status).toBe(401);
    await platform.auditDrained();
    const { rows } = await platform.auditPool.query(
      `SELECT action, account_id, detail FROM audit_events WHERE action IN ('sign-up', 'sign-in-failed') ORDER BY seq`,
    );
    expect(rows).toEqual([
      { action: 'sign-up', account_id: sub, detail: { method: 'signup' } },
      { action: 'sign-in-failed', account_id: null, detail: { method: 'login', status: 401 } },
    ]);
    const all = await platform.auditPool.query('SELECT * FROM audit_events');
    expect(JSON.stringify(all.rows)).not.toContain(password);
  });

  it('records runs without their SQL, and serves the log to admins only', async () => {
    const marker = `marker_${randomUUID().slice(0, 8)}`;
    await post(`${platform.gatewayUrl}/api/runs`, { head: `select '${marker}'` }, bearer(token));
    await platform.auditDrained();
    const { rows } = await platform.auditPool.query(
      'SELECT action, account_id, ip, request_id, detail FROM audit_events',
    );
    expect(rows).toContainEqual({
      action: 'run',
      account_id: learnerId,
      ip: '127.0.0.1',
      request_id: expect.any(String),
      detail: { status: expect.any(Number) },
    });
    expect(JSON.stringify(rows)).not.toContain(marker);

    const learner = await fetch(`${platform.gatewayUrl}/api/admin/audit`, { headers: bearer(token) });
    expect(learner.status).toBe(403);
    expect(((await learner.json()) as { code: string }).code).toBe('GATEWAY_FORBIDDEN');

    const admin = await platform.tokenFor(randomUUID(), 'admin');
    const page = await fetch(`${platform.gatewayUrl}/api/admin/audit?accountId=${learnerId}&action=run`, {
      headers: bearer(admin),
    });
    expect(page.status).toBe(200);
    const body = (await page.json()) as { events: { accountId: string; action: string }[]; nextCursor: null };
    expect(body.events).toEqual([expect.objectContaining({ accountId: learnerId, action: 'run' })]);
    const verify = await fetch(`${platform.gatewayUrl}/api/admin/audit/verify`, { headers: bearer(admin) });
    expect(await verify.json()).toMatchObject({ ok: true, checked: rows.length });
  });

  it('writes no token, cookie or SQL text to any log line', async () => {
    const marker = `secret_marker_${randomUUID().slice(0, 8)}`;
    const cookie = `refresh=${randomUUID()}`;
    await post(`${platform.gatewayUrl}/api/plan`, { sql: `select 1 as ${marker}` }, { ...bearer(token), cookie });
    await post(`${platform.gatewayUrl}/api/plan`, { sql: `select from ${marker}` }, { ...bearer(token), cookie });
    await post(`${platform.gatewayUrl}/api/runs`, { head: `select '${marker}'` }, bearer(token));
    await post(`${platform.gatewayUrl}/api/auth/anonymous`, undefined, { cookie });
    // Password routes as the SPA calls them (forwarded to idp where the gateway has them, 404 elsewhere).
    const credentials = { email: 'someone@example.com', password: `pw-${marker}` };
    await post(`${platform.gatewayUrl}/api/auth/signup`, credentials);
    await post(`${platform.gatewayUrl}/api/auth/login`, { ...credentials, password: `wrong-${marker}` });
    await platform.auditDrained();
    const lines = platform.logLines();
    expect(lines.length).toBeGreaterThan(20);
    const signature = token.split('.')[2] as string;
    const leaks = lines.filter(
      (l) => l.includes(marker) || l.includes(token) || l.includes(signature) || l.includes(cookie),
    );
    expect(leaks).toEqual([]);
  });
});
