import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestPlatform, type TestPlatform } from './platform.js';

describe('gateway with idp and sql-runner', () => {
  let platform: TestPlatform;
  let token: string;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  beforeAll(async () => {
    platform = await startTestPlatform();
    const signIn = await post(`${platform.gatewayUrl}/api/auth/anonymous`);
    expect(signIn.status).toBe(201);
    token = signIn.body.accessToken;
  });
  afterAll(async () => platform.close());

  it('signs in anonymously: an account row and an EdDSA token whose key idp publishes', async () => {
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('EdDSA');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ role: 'anonymous', iss: 'taidon-idp', aud: 'taidon' });
    expect(claims.exp - claims.iat).toBe(900);
    const account = await platform.profilePool.query('SELECT role FROM accounts WHERE id = $1', [claims.sub]);
    expect(account.rows).toEqual([{ role: 'anonymous' }]);
    const jwks = (await (await fetch(`${platform.idpUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((k: JWK) => k.kid)).toContain(header.kid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('answers 401 problem+json on /api/plan without a token', async () => {
    const response = await post(`${platform.gatewayUrl}/api/plan`, { sql: 'select 1' });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ code: 'UNAUTHORIZED', status: 401, type: 'urn:taidon:problem:UNAUTHORIZED' });
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const kid = decodeProtectedHeader(token).kid as string;
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setSubject(randomUUID())
      .setIssuer('taidon-idp')
      .setAudience('taidon')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const response = await post(`${platform.gatewayUrl}/api/plan`, { sql: 'select 1' }, bearer(forged));
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('UNAUTHORIZED');
  });

  it('refuses expired tokens and tokens for another audience, signed with the real key', async () => {
    const { rows } = await platform.idpPool.query('SELECT kid, private_jwk FROM signing_keys');
    const key = await importJWK(rows[0].private_jwk as JWK, 'EdDSA');
    const sign = (aud: string, exp: number) =>
      new SignJWT({ role: 'anonymous' })
        .setProtectedHeader({ alg: 'EdDSA', kid: rows[0].kid })
        .setSubject(randomUUID())
        .setIssuer('taidon-idp')
        .setAudience(aud)
        .setIssuedAt(exp - 60)
        .setExpirationTime(exp)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const expired = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'select 1' },
      bearer(await sign('taidon', now - 10)),
    );
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/expired/);
    const otherAudience = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'select 1' },
      bearer(await sign('elsewhere', now + 300)),
    );
    expect(otherAudience.status).toBe(401);
    const good = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'select 1' },
      bearer(await sign('taidon', now + 300)),
    );
    expect(good.status).toBe(200);
  });

  it('plans a script through sql-runner: steps with positions, keys and transaction marks', async () => {
    const response = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'CREATE TABLE t (id int);\nBEGIN;\n  INSERT INTO t VALUES (1);\nCOMMIT;\nSELECT * FROM t;' },
      bearer(token),
    );
    expect(response.status).toBe(200);
    const { steps, finalKey, baseKey } = response.body;
    expect(steps.map((s: { kind: string }) => s.kind)).toEqual([
      'CreateStmt',
      'TransactionStmt',
      'InsertStmt',
      'TransactionStmt',
      'SelectStmt',
    ]);
    expect(steps[2]).toMatchObject({ index: 2, path: 'query.sql', line: 3, column: 3, opensTransaction: true });
    expect(steps.map((s: { opensTransaction: boolean }) => s.opensTransaction)).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(finalKey).toBe(steps[4].key);
    expect(baseKey).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(steps.map((s: { key: string }) => s.key)).size).toBe(5);
  });

  it('passes a 422 syntax error through unchanged, with SQLSTATE, line and column', async () => {
    const response = await post(
      `${platform.gatewayUrl}/api/plan`,
      { files: [{ path: 'init/01.sql', sql: 'SELECT 1;\nSELECT * FROM t WHERE;\n' }] },
      bearer(token),
    );
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      code: 'SQL_RUNNER_SYNTAX_ERROR',
      sqlstate: '42601',
      path: 'init/01.sql',
      line: 2,
      column: 22,
    });
    expect(response.body.message).toMatch(/syntax error at or near ";"/);
  });

  it('rejects a body that matches neither plan shape with 400 VALIDATION_FAILED', async () => {
    const response = await post(`${platform.gatewayUrl}/api/plan`, { script: 'select 1' }, bearer(token));
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
  });

  it('keeps services closed to callers without the service token', async () => {
    const direct = await post(`${platform.sqlRunnerUrl}/plan`, { sql: 'select 1' });
    expect(direct.status).toBe(401);
    const wrong = await post(
      `${platform.sqlRunnerUrl}/plan`,
      { sql: 'select 1' },
      { 'x-taidon-service-token': 'guess' },
    );
    expect(wrong.status).toBe(401);
  });

  it('propagates x-request-id to the service and its log lines', async () => {
    const requestId = `test-${randomUUID()}`;
    const response = await post(
      `${platform.gatewayUrl}/api/plan`,
      { sql: 'select 42' },
      { ...bearer(token), 'x-request-id': requestId },
    );
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const lines = platform.logLines().map((l) => JSON.parse(l));
    const services = new Set(lines.filter((l) => l.reqId === requestId).map((l) => l.service));
    expect(services).toEqual(new Set(['gateway', 'sql-runner']));
  });

  it('publishes the OpenAPI document of the public routes', async () => {
    const doc = (await (await fetch(`${platform.gatewayUrl}/api/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/plan', '/api/auth/anonymous']));
    expect(doc.paths['/api/plan'].post.responses['422']).toBeDefined();
  });

  it('counts requests per route in /metrics', async () => {
    const text = await (await fetch(`${platform.gatewayUrl}/metrics`)).text();
    expect(text).toMatch(
      /taidon_http_requests_total\{method="POST",route="\/api\/plan",status_code="200",service="gateway"\} \d+/,
    );
    expect(text).toMatch(/taidon_http_request_duration_seconds_bucket\{le="0.005",[^}]*route="\/api\/plan"/);
  });

  it('never logs tokens or SQL text', async () => {
    const secretSql = `SELECT 'canary-${randomUUID()}'`;
    await post(`${platform.gatewayUrl}/api/plan`, { sql: secretSql }, bearer(token));
    const all = platform.logLines().join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('canary-');
    expect(all).not.toContain(platform.serviceToken);
  });

  it('reports not ready while a service is down', async () => {
    const ready = await fetch(`${platform.gatewayUrl}/health/ready`);
    expect(ready.status).toBe(200);
    await platform.sqlRunner.close();
    const down = await fetch(`${platform.gatewayUrl}/health/ready`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as any).checks['sql-runner']).not.toBe('ok');
    const plan = await post(`${platform.gatewayUrl}/api/plan`, { sql: 'select 1' }, bearer(token));
    expect(plan.status).toBe(503);
    expect(plan.body.code).toBe('GATEWAY_UPSTREAM_UNAVAILABLE');
  });
});
