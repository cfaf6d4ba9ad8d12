import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyCache } from '../../../backend/gateway/src/jwks.js';
import { type AuthAnswer, authCall, refreshCookieOf, rotateKey } from './auth-helpers.js';
import { startTestPlatform, type TestPlatform } from './platform.js';

let platform: TestPlatform;
const secrets: string[] = [];
const keep = (answer: AuthAnswer): AuthAnswer => {
  if (answer.body?.accessToken) secrets.push(answer.body.accessToken);
  const refresh = answer.cookies.get('taidon_refresh')?.value;
  if (refresh) secrets.push(refresh);
  return answer;
};
const call = async (...args: Parameters<typeof authCall> extends [string, ...infer R] ? R : never) =>
  keep(await authCall(platform.gatewayUrl, ...args));
const plan = (token: string) => call('POST', '/api/plan', { body: { sql: 'select 1' }, token });

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(() => platform?.close());

describe('sign-in through the gateway', () => {
  it('signs up: the body has only the access token, the refresh token is an httpOnly Strict cookie', async () => {
    const password = 'gateway password 1';
    secrets.push(password);
    const up = await call('POST', '/api/auth/signup', { body: { email: 'grace@example.test', password } });
    expect(up.status).toBe(201);
    expect(Object.keys(up.body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
    expect(up.headers.get('cache-control')).toBe('no-store');
    const cookie = up.cookies.get('taidon_refresh');
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie?.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/api/auth']),
    );
    expect((await plan(up.body.accessToken)).status).toBe(200);
    const login = await call('POST', '/api/auth/login', { body: { email: 'grace@example.test', password } });
    expect(login.status).toBe(200);
    expect(decodeJwt(login.body.accessToken).sub).toBe(decodeJwt(up.body.accessToken).sub);
    const wrong = await call('POST', '/api/auth/login', {
      body: { email: 'grace@example.test', password: 'x'.repeat(9) },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('IDP_INVALID_CREDENTIALS');
    expect(wrong.cookies.size).toBe(0);
  });

  it('rotates the refresh cookie, and a replayed one ends the session for everyone holding it', async () => {
    const start = await call('POST', '/api/auth/anonymous');
    const first = refreshCookieOf(start);
    const next = await call('POST', '/api/auth/refresh', { cookie: first });
    expect(next.status).toBe(200);
    const second = refreshCookieOf(next);
    expect(second).not.toBe(first);
    expect(decodeJwt(next.body.accessToken).sub).toBe(decodeJwt(start.body.accessToken).sub);
    const replay = await call('POST', '/api/auth/refresh', { cookie: first });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('IDP_REFRESH_REUSED');
    expect(replay.cookies.get('taidon_refresh')?.value).toBe('');
    const victim = await call('POST', '/api/auth/refresh', { cookie: second });
    expect(victim.body.code).toBe('IDP_REFRESH_INVALID');
    const none = await call('POST', '/api/auth/refresh');
    expect(none.body.code).toBe('IDP_REFRESH_INVALID');
  });

  it('signs out: the cookie is cleared and its refresh token is dead', async () => {
    const start = await call('POST', '/api/auth/anonymous');
    const cookie = refreshCookieOf(start);
    const out = await call('POST', '/api/auth/logout', { cookie });
    expect(out.status).toBe(204);
    expect(out.cookies.get('taidon_refresh')?.value).toBe('');
    expect((await call('POST', '/api/auth/refresh', { cookie })).body.code).toBe('IDP_REFRESH_INVALID');
    const { rows } = await platform.idpPool.query(
      "SELECT count(*)::int AS n FROM refresh_families WHERE revoked_reason = 'sign-out'",
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it('upgrades the signed-in anonymous account in place; the upgrade needs a token', async () => {
    const anonymous = await call('POST', '/api/auth/anonymous');
    const id = decodeJwt(anonymous.body.accessToken).sub;
    const body = { email: 'lin@example.test', password: 'upgrade password 2' };
    secrets.push(body.password);
    expect((await call('POST', '/api/auth/upgrade', { body })).status).toBe(401);
    const upgraded = await call('POST', '/api/auth/upgrade', { body, token: anonymous.body.accessToken });
    expect(upgraded.status).toBe(200);
    expect(decodeJwt(upgraded.body.accessToken)).toMatchObject({ sub: id, role: 'learner' });
    refreshCookieOf(upgraded);
    const { rows } = await platform.profilePool.query('SELECT role, email FROM accounts WHERE id = $1', [id]);
    expect(rows).toEqual([{ role: 'learner', email: 'lin@example.test' }]);
    const login = await call('POST', '/api/auth/login', { body });
    expect(decodeJwt(login.body.accessToken).sub).toBe(id);
  });

  it('accepts tokens of a rotated key at once and keeps accepting the old key until its tokens expire', async () => {
    const before = await call('POST', '/api/auth/anonymous');
    expect((await plan(before.body.accessToken)).status).toBe(200);
    const kid = await rotateKey(platform.idpUrl, platform.serviceToken);
    const after = await call('POST', '/api/auth/refresh', { cookie: refreshCookieOf(before) });
    expect(decodeProtectedHeader(after.body.accessToken).kid).toBe(kid);
    expect((await plan(after.body.accessToken)).status).toBe(200);
    expect((await plan(before.body.accessToken)).status).toBe(200);
    // The retired key still verifies, but an expired token it signed does not.
    const oldKid = decodeProtectedHeader(before.body.accessToken).kid;
    const { rows } = await platform.idpPool.query('SELECT private_jwk FROM signing_keys WHERE kid = $1', [oldKid]);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid: oldKid as string })
      .setSubject(randomUUID())
      .setIssuer('taidon-idp')
      .setAudience('taidon')
      .setIssuedAt(now - 1000)
      .setExpirationTime(now - 100)
      .sign(await importJWK(rows[0].private_jwk as JWK, 'EdDSA'));
    const refused = await plan(expired);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/expired/);
  });

  it('refetches the JWKS for an unknown kid at most once per interval, however many forged kids arrive', async () => {
    const url = `${platform.idpUrl}/.well-known/jwks.json`;
    const cache = new KeyCache(url, async (u) => (await fetch(u)).json(), 300);
    const kid = decodeProtectedHeader((await call('POST', '/api/auth/anonymous')).body.accessToken).kid;
    await expect(cache.publicKey(kid)).resolves.toMatch(/BEGIN PUBLIC KEY/);
    const forged = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => cache.publicKey(`forged-${i}`)));
    expect(forged.every((r) => r.status === 'rejected')).toBe(true);
    expect(cache.fetchCount).toBe(2);
    const rotated = await rotateKey(platform.idpUrl, platform.serviceToken);
    await expect(cache.publicKey(rotated)).resolves.toMatch(/BEGIN PUBLIC KEY/);
    expect(cache.fetchCount).toBe(3);
  });

  it('never writes a password, token or cookie to any log line', () => {
    const lines = platform.logLines();
    expect(secrets.length).toBeGreaterThan(15);
    expect(lines.length).toBeGreaterThan(20);
    expect(secrets.filter((s) => lines.some((line) => line.includes(s)))).toEqual([]);
  });
});
