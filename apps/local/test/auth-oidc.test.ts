import { freePort } from '@taidon/kit';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browseToCallback,
  type LoopbackProvider,
  startLoopbackProvider,
} from '../../../services/idp/test/oidc-provider.js';
import { type AuthAnswer, authCall, refreshCookieOf } from './auth-helpers.js';
import { startTestPlatform, type TestPlatform } from './platform.js';

let provider: LoopbackProvider;
let platform: TestPlatform;
let callbackUrl: string;
const secrets: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  callbackUrl = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
  provider = await startLoopbackProvider([callbackUrl]);
  platform = await startTestPlatform({
    gatewayPort: port,
    idp: {
      OIDC_ISSUER_URL: provider.issuer,
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
      OIDC_REDIRECT_URL: callbackUrl,
    },
  });
});
afterAll(async () => {
  await platform?.close();
  await provider?.close();
});

const gateway = (method: 'GET' | 'POST', path: string, cookie?: string) =>
  authCall(platform.gatewayUrl, method, path, cookie ? { cookie } : {});

/** The browser's trip: start at the gateway, through the provider, back to the callback URL (not yet requested). */
async function toCallback(startPath: string, cookie?: string): Promise<{ callback: URL; stateCookie: string }> {
  const start = await gateway('GET', startPath, cookie);
  expect(start.status).toBe(302);
  const state = start.cookies.get('taidon_oidc_state');
  expect(state?.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax']));
  const location = start.headers.get('location') ?? '';
  expect(location.startsWith(provider.issuer)).toBe(true);
  const callback = new URL(await browseToCallback(location, callbackUrl));
  secrets.push(callback.searchParams.get('code') ?? '');
  return { callback, stateCookie: `taidon_oidc_state=${encodeURIComponent(state?.value ?? '')}` };
}

/** Completes the callback in the browser that started it; then the SPA asks for an access token. */
async function finish(callback: URL, stateCookie: string): Promise<{ landing: AuthAnswer; token: string }> {
  const landing = await gateway('GET', `${callback.pathname}${callback.search}`, stateCookie);
  expect(landing.status).toBe(302);
  expect(landing.headers.get('location')).toBe('/');
  const refreshed = await gateway('POST', '/api/auth/refresh', refreshCookieOf(landing));
  secrets.push(refreshed.body.accessToken, refreshCookieOf(landing));
  return { landing, token: refreshed.body.accessToken };
}

describe('OpenID Connect through the gateway', () => {
  it('signs in with PKCE: the callback sets the refresh cookie and redirects to /', async () => {
    provider.user = { sub: 'gw-alice', email: 'gw-alice@example.test' };
    const { callback, stateCookie } = await toCallback('/api/auth/oidc/start');
    const { landing, token } = await finish(callback, stateCookie);
    expect(landing.cookies.get('taidon_refresh')?.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/api/auth']),
    );
    const claims = decodeJwt(token);
    expect(claims.role).toBe('learner');
    const { rows } = await platform.idpPool.query('SELECT account_id FROM oidc_links WHERE subject = $1', ['gw-alice']);
    expect(rows).toEqual([{ account_id: claims.sub }]);
    // The provider verified the email: USER_PROFILE_ADMIN_EMAILS may trust it.
    const account = await platform.profilePool.query('SELECT email_verified FROM accounts WHERE id = $1', [claims.sub]);
    expect(account.rows).toEqual([{ email_verified: true }]);
  });

  it('keeps an email the provider did not verify unverified, as a password sign-up’s', async () => {
    provider.user = { sub: 'gw-carol', email: 'gw-carol@example.test', emailVerified: false };
    const { callback, stateCookie } = await toCallback('/api/auth/oidc/start');
    const { token } = await finish(callback, stateCookie);
    const { rows } = await platform.profilePool.query('SELECT email, email_verified FROM accounts WHERE id = $1', [
      decodeJwt(token).sub,
    ]);
    expect(rows).toEqual([{ email: 'gw-carol@example.test', email_verified: false }]);
    const signup = await authCall(platform.gatewayUrl, 'POST', '/api/auth/signup', {
      body: { email: 'gw-dave@example.test', password: 'correct horse battery' },
    });
    expect(signup.status).toBe(201);
    const password = await platform.profilePool.query('SELECT email_verified FROM accounts WHERE id = $1', [
      decodeJwt(signup.body.accessToken).sub,
    ]);
    expect(password.rows).toEqual([{ email_verified: false }]);
  });

  it('refuses a tampered state, and a callback in a browser that did not start the login', async () => {
    provider.user = { sub: 'gw-eve', email: 'gw-eve@example.test' };
    const { callback, stateCookie } = await toCallback('/api/auth/oidc/start');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'x'.repeat(43));
    const refused = await gateway('GET', `${tampered.pathname}${tampered.search}`, stateCookie);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('GATEWAY_OIDC_STATE_MISMATCH');
    const elsewhere = await gateway('GET', `${callback.pathname}${callback.search}`);
    expect(elsewhere.body.code).toBe('GATEWAY_OIDC_STATE_MISMATCH');
    expect(elsewhere.cookies.get('taidon_refresh')).toBeUndefined();
    const { rowCount } = await platform.idpPool.query("SELECT 1 FROM oidc_links WHERE subject = 'gw-eve'");
    expect(rowCount).toBe(0);
  });

  it('upgrades the anonymous account of the browser in place (upgrade=true)', async () => {
    const anonymous = await authCall(platform.gatewayUrl, 'POST', '/api/auth/anonymous');
    const id = decodeJwt(anonymous.body.accessToken).sub;
    provider.user = { sub: 'gw-bob', email: 'gw-bob@example.test' };
    const { callback, stateCookie } = await toCallback('/api/auth/oidc/start?upgrade=true', refreshCookieOf(anonymous));
    const { token } = await finish(callback, stateCookie);
    expect(decodeJwt(token)).toMatchObject({ sub: id, role: 'learner' });
    const { rows } = await platform.profilePool.query(
      'SELECT role, email, email_verified FROM accounts WHERE id = $1',
      [id],
    );
    expect(rows).toEqual([{ role: 'learner', email: 'gw-bob@example.test', email_verified: true }]);
  });

  it('keeps the authorization code and tokens out of every log line', () => {
    const lines = platform.logLines();
    expect(secrets.filter(Boolean).length).toBeGreaterThan(6);
    expect(secrets.filter((s) => s && lines.some((line) => line.includes(s)))).toEqual([]);
  });
});
