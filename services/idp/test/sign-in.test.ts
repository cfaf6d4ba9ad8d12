import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdpHarness, leakedSecrets, startIdp } from './helpers.js';

let idp: IdpHarness;
const secrets: string[] = [];
const remember = <T extends { body: any }>(answer: T): T => {
  for (const name of ['accessToken', 'refreshToken']) if (answer.body?.[name]) secrets.push(answer.body[name]);
  return answer;
};

beforeAll(async () => {
  idp = await startIdp({ SIGN_IN_MAX_FAILURES_PER_ACCOUNT: 3, SIGN_IN_MAX_FAILURES_PER_IP: 6 });
});
afterAll(() => idp?.close());

async function accountRole(id: string): Promise<string | undefined> {
  const { rows } = await idp.profilePool.query<{ role: string }>('SELECT role FROM accounts WHERE id = $1', [id]);
  return rows[0]?.role;
}

describe('idp sign-in with user-profile behind it', () => {
  it('signs in anonymously: user-profile holds the account, idp only a refresh family', async () => {
    const answer = remember(await idp.call('/auth/anonymous'));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', role: 'anonymous', expiresIn: 900 });
    expect(decodeJwt(answer.body.accessToken)).toMatchObject({ sub: answer.body.accountId, role: 'anonymous' });
    expect(await accountRole(answer.body.accountId)).toBe('anonymous');
    const families = await idp.idpPool.query('SELECT account_id FROM refresh_families WHERE account_id = $1', [
      answer.body.accountId,
    ]);
    expect(families.rowCount).toBe(1);
    const tables = await idp.idpPool.query("SELECT 1 FROM pg_tables WHERE tablename = 'accounts'");
    expect(tables.rowCount).toBe(0);
  });

  it('signs up with a scrypt hash (never the password) and signs in with the same password', async () => {
    const password = 'correct horse battery staple';
    secrets.push(password);
    const up = remember(await idp.call('/auth/signup', { email: 'Ada@Example.test', password }));
    expect(up.status).toBe(201);
    expect(up.body.role).toBe('learner');
    const { rows } = await idp.idpPool.query('SELECT email, password_hash FROM password_credentials');
    expect(rows).toEqual([
      { email: 'ada@example.test', password_hash: expect.stringMatching(/^scrypt\$32768\$8\$1\$/) },
    ]);
    expect(rows[0].password_hash).not.toContain(password);
    const inAgain = remember(await idp.call('/auth/login', { email: 'ada@example.test', password }));
    expect(inAgain.status).toBe(200);
    expect(inAgain.body.accountId).toBe(up.body.accountId);
    const taken = await idp.call('/auth/signup', { email: 'ADA@example.test', password });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('USER_PROFILE_EMAIL_TAKEN');
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    await idp.call('/auth/signup', { email: 'same@example.test', password: 'a good password' });
    const wrong = await idp.call('/auth/login', { email: 'same@example.test', password: 'not the password' });
    const unknown = await idp.call('/auth/login', { email: 'nobody@example.test', password: 'not the password' });
    const strip = ({ requestId: _r, instance: _i, ...rest }: Record<string, unknown>) => rest;
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body.code).toBe('IDP_INVALID_CREDENTIALS');
  });

  it('limits failed sign-ins per account, then refuses even the right password with 429 and Retry-After', async () => {
    const password = 'limit password 1';
    await idp.call('/auth/signup', { email: 'limited@example.test', password });
    for (let i = 0; i < 3; i++) {
      const failed = await idp.call(
        '/auth/login',
        { email: 'limited@example.test', password: 'wrong password' },
        {
          'x-taidon-client-ip': `10.0.0.${i}`,
        },
      );
      expect(failed.body.code).toBe('IDP_INVALID_CREDENTIALS');
    }
    const refused = await idp.call('/auth/login', { email: 'limited@example.test', password });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('IDP_TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const stored = await idp.idpPool.query("SELECT key FROM sign_in_failures WHERE key LIKE 'account:%'");
    expect(stored.rows.map((r) => r.key).join()).not.toContain('limited');
  });

  it('limits failed sign-ins per address across emails', async () => {
    const ip = { 'x-taidon-client-ip': '192.0.2.7' };
    for (let i = 0; i < 6; i++) {
      const failed = await idp.call('/auth/login', { email: `guess${i}@example.test`, password: 'guessing 123' }, ip);
      expect(failed.status).toBe(401);
    }
    const refused = await idp.call('/auth/login', { email: 'fresh@example.test', password: 'guessing 123' }, ip);
    expect(refused.body.code).toBe('IDP_TOO_MANY_ATTEMPTS');
    const elsewhere = await idp.call('/auth/login', { email: 'fresh@example.test', password: 'guessing 123' });
    expect(elsewhere.body.code).toBe('IDP_INVALID_CREDENTIALS');
  });

  it('rotates the refresh token on every use and revokes the family when a rotated one comes back', async () => {
    const first = remember(await idp.call('/auth/anonymous'));
    const second = remember(await idp.call('/auth/refresh', { refreshToken: first.body.refreshToken }));
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(second.body.accountId).toBe(first.body.accountId);
    const third = remember(await idp.call('/auth/refresh', { refreshToken: second.body.refreshToken }));
    expect(third.status).toBe(200);
    const replay = await idp.call('/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('IDP_REFRESH_REUSED');
    const latest = await idp.call('/auth/refresh', { refreshToken: third.body.refreshToken });
    expect(latest.body.code).toBe('IDP_REFRESH_INVALID');
    const { rows } = await idp.idpPool.query('SELECT revoked_reason FROM refresh_families WHERE account_id = $1', [
      first.body.accountId,
    ]);
    expect(rows).toEqual([{ revoked_reason: 'reuse' }]);
    const stored = (token: Buffer) =>
      idp.idpPool.query('SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1', [token]);
    expect((await stored(Buffer.from(first.body.refreshToken))).rowCount).toBe(0);
    const hashed = await stored(createHash('sha256').update(first.body.refreshToken).digest());
    expect(hashed.rows).toEqual([{ rotated_at: expect.any(Date) }]);
  });

  it('signs out: the refresh token no longer works', async () => {
    const session = remember(await idp.call('/auth/anonymous'));
    expect((await idp.call('/auth/logout', { refreshToken: session.body.refreshToken })).status).toBe(204);
    const after = await idp.call('/auth/refresh', { refreshToken: session.body.refreshToken });
    expect(after.body.code).toBe('IDP_REFRESH_INVALID');
    expect((await idp.call('/auth/refresh', { refreshToken: '' })).body.code).toBe('IDP_REFRESH_INVALID');
  });

  it('upgrades an anonymous account in place, keeping its id, and refuses a second upgrade', async () => {
    const anonymous = remember(await idp.call('/auth/anonymous'));
    const id = anonymous.body.accountId;
    const credentials = { email: 'upgraded@example.test', password: 'upgrade password' };
    const upgraded = remember(await idp.call('/auth/upgrade', credentials, { 'x-taidon-account': id }));
    expect(upgraded.status).toBe(200);
    expect(upgraded.body).toMatchObject({ accountId: id, role: 'learner' });
    expect(decodeJwt(upgraded.body.accessToken)).toMatchObject({ sub: id, role: 'learner' });
    expect(await accountRole(id)).toBe('learner');
    const login = await idp.call('/auth/login', credentials);
    expect(login.body.accountId).toBe(id);
    const again = await idp.call(
      '/auth/upgrade',
      { ...credentials, email: 'x@example.test' },
      { 'x-taidon-account': id },
    );
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('USER_PROFILE_ALREADY_REGISTERED');
  });

  it('rotates the signing key: new tokens name the new kid, the JWKS keeps the old one', async () => {
    const before = remember(await idp.call('/auth/anonymous'));
    const oldKid = decodeProtectedHeader(before.body.accessToken).kid;
    const rotated = await idp.call('/keys/rotate');
    expect(rotated.status).toBe(201);
    expect(rotated.body.kid).not.toBe(oldKid);
    const after = remember(await idp.call('/auth/anonymous'));
    expect(decodeProtectedHeader(after.body.accessToken).kid).toBe(rotated.body.kid);
    const jwks = (await (await fetch(`${idp.idpUrl}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const { rows } = await idp.idpPool.query('SELECT kid FROM signing_keys WHERE retired_at IS NULL');
    expect(rows).toEqual([{ kid: rotated.body.kid }]);
  });

  it('answers invalid input with problem+json and never logs a password or token', async () => {
    const short = await idp.call('/auth/signup', { email: 'short@example.test', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('VALIDATION_FAILED');
    const lines = idp.logLines();
    expect(lines.length).toBeGreaterThan(10);
    expect(secrets.length).toBeGreaterThan(10);
    expect(leakedSecrets(lines, secrets)).toEqual([]);
  });
});
