import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdpHarness, leakedSecrets, startIdp } from './helpers.js';
import { browseToCallback, type LoopbackProvider, startLoopbackProvider } from './oidc-provider.js';

// The gateway's callback URL as the provider knows it; nothing listens there, the test stops at the redirect.
const REDIRECT = 'http://127.0.0.1:9/api/auth/oidc/callback';

let provider: LoopbackProvider;
let idp: IdpHarness;
const secrets: string[] = [];

beforeAll(async () => {
  provider = await startLoopbackProvider([REDIRECT]);
  idp = await startIdp({
    OIDC_ISSUER_URL: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_REDIRECT_URL: REDIRECT,
  });
});
afterAll(async () => {
  await idp?.close();
  await provider?.close();
});

/** Starts a login at idp and plays the browser at the provider; returns the callback's query string. */
async function loginAtProvider(body: Record<string, string> = {}): Promise<{ query: string; state: string }> {
  const start = await idp.call('/auth/oidc/start', body);
  expect(start.status).toBe(200);
  const url = new URL(start.body.authorizationUrl);
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(url.searchParams.get('nonce')).toBeTruthy();
  expect(url.searchParams.get('state')).toBe(start.body.state);
  const callback = new URL(await browseToCallback(url.href, REDIRECT));
  secrets.push(callback.searchParams.get('code') ?? '');
  return { query: callback.search.slice(1), state: start.body.state };
}

describe('OpenID Connect sign-in against a loopback oidc-provider', () => {
  it('registers a learner on first login with PKCE, and signs the same identity in to the same account', async () => {
    provider.user = { sub: 'alice', email: 'alice@example.test' };
    const { query } = await loginAtProvider();
    const first = await idp.call('/auth/oidc/callback', { query });
    expect(first.status).toBe(200);
    secrets.push(first.body.accessToken, first.body.refreshToken);
    expect(first.body.role).toBe('learner');
    const links = await idp.idpPool.query('SELECT issuer, subject, account_id FROM oidc_links');
    expect(links.rows).toEqual([{ issuer: provider.issuer, subject: 'alice', account_id: first.body.accountId }]);
    const profile = await idp.profilePool.query('SELECT email FROM accounts WHERE id = $1', [first.body.accountId]);
    expect(profile.rows).toEqual([{ email: 'alice@example.test' }]);
    const second = await idp.call('/auth/oidc/callback', { query: (await loginAtProvider()).query });
    expect(second.body.accountId).toBe(first.body.accountId);
    const replay = await idp.call('/auth/oidc/callback', { query });
    expect(replay.body.code).toBe('IDP_OIDC_STATE_MISMATCH');
  });

  it('refuses a callback whose state was tampered with, and the code of a flow it did not start', async () => {
    provider.user = { sub: 'mallory', email: 'mallory@example.test' };
    const { query } = await loginAtProvider();
    const params = new URLSearchParams(query);
    params.set('state', `${params.get('state')}x`);
    const tampered = await idp.call('/auth/oidc/callback', { query: params.toString() });
    expect(tampered.status).toBe(400);
    expect(tampered.body.code).toBe('IDP_OIDC_STATE_MISMATCH');
    // The real state of another flow with this flow's code: PKCE verifier and code do not match.
    const other = await loginAtProvider();
    const swapped = new URLSearchParams(other.query);
    swapped.set('code', new URLSearchParams(query).get('code') ?? '');
    const mixed = await idp.call('/auth/oidc/callback', { query: swapped.toString() });
    expect(mixed.status).toBe(400);
    expect(mixed.body.code).toBe('IDP_OIDC_FAILED');
    const links = await idp.idpPool.query("SELECT 1 FROM oidc_links WHERE subject = 'mallory'");
    expect(links.rowCount).toBe(0);
  });

  it('upgrades the anonymous account of a session in place through the provider', async () => {
    const anonymous = await idp.call('/auth/anonymous');
    secrets.push(anonymous.body.accessToken, anonymous.body.refreshToken);
    provider.user = { sub: 'bob', email: 'bob@example.test' };
    const { query } = await loginAtProvider({ upgradeRefreshToken: anonymous.body.refreshToken });
    const upgraded = await idp.call('/auth/oidc/callback', { query });
    expect(upgraded.status).toBe(200);
    expect(upgraded.body).toMatchObject({ accountId: anonymous.body.accountId, role: 'learner' });
    expect(decodeJwt(upgraded.body.accessToken).sub).toBe(anonymous.body.accountId);
    const profile = await idp.profilePool.query('SELECT role, email FROM accounts WHERE id = $1', [
      anonymous.body.accountId,
    ]);
    expect(profile.rows).toEqual([{ role: 'learner', email: 'bob@example.test' }]);
    // Another anonymous session cannot take bob's identity.
    const other = await idp.call('/auth/anonymous');
    const again = await loginAtProvider({ upgradeRefreshToken: other.body.refreshToken });
    const refused = await idp.call('/auth/oidc/callback', { query: again.query });
    expect(refused.body.code).toBe('IDP_OIDC_ALREADY_LINKED');
  });

  it('keeps codes and tokens out of the logs', () => {
    expect(secrets.filter(Boolean).length).toBeGreaterThan(6);
    expect(leakedSecrets(idp.logLines(), secrets)).toEqual([]);
  });
});
