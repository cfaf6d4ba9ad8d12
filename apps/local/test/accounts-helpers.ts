import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import pg from 'pg';
import type { TestStack } from './stack.js';

/** Calls the gateway as a browser would, returning status, headers and the parsed body. */
export async function api(
  stack: TestStack,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Calls user-profile directly with the service token, as idp or an operator's tool does. */
export async function profile(stack: TestStack, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) {
  const response = await fetch(`${stack.services.userProfileUrl}${path}`, {
    method,
    headers: {
      [SERVICE_TOKEN_HEADER]: stack.serviceToken,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Runs SQL on the stack's control-plane database as the superuser (to assert rows of any service). */
export async function controlPlane<T extends pg.QueryResultRow>(
  stack: TestStack,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** idp's current signing key; made the way idp makes its first one when no sign-in has happened yet. */
async function idpSigningKey(stack: TestStack): Promise<{ kid: string; private_jwk: JWK }> {
  const select = () =>
    controlPlane<{ kid: string; private_jwk: JWK }>(
      stack,
      'SELECT kid, private_jwk FROM idp.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
    );
  const [existing] = await select();
  if (existing) return existing;
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await controlPlane(
    stack,
    'INSERT INTO idp.signing_keys (kid, algorithm, public_jwk, private_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [kid, 'EdDSA', { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }, { ...(await exportJWK(privateKey)), kid }],
  );
  const [made] = await select();
  if (!made) throw new Error('idp has no signing key');
  return made;
}

/**
 * An access token for an account, signed with idp's key exactly as idp signs
 * one (the gateway verifies it against idp's JWKS): how a test holds an
 * admin's or a learner's token without depending on a sign-in flow.
 */
export async function tokenFor(stack: TestStack, sub: string, role: string): Promise<string> {
  const key = await idpSigningKey(stack);
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setSubject(sub)
    .setIssuer('taidon-idp')
    .setAudience('taidon')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(key.private_jwk, 'EdDSA'));
}

/** A new account in user-profile and a token for it. */
export async function accountWithToken(
  stack: TestStack,
  role: 'anonymous' | 'learner' | 'instructor' | 'admin',
): Promise<{ id: string; token: string }> {
  const created = await profile(stack, 'POST', '/accounts', { role: role === 'anonymous' ? 'anonymous' : 'learner' });
  if (created.status !== 201) throw new Error(`user-profile answered ${created.status}`);
  if (role === 'instructor' || role === 'admin')
    await profile(stack, 'PATCH', `/accounts/${created.body.id}`, { role });
  return { id: created.body.id, token: await tokenFor(stack, created.body.id, role) };
}
