import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdpHarness, startIdp } from './helpers.js';

let idp: IdpHarness;

beforeAll(async () => {
  idp = await startIdp({ SIGNING_KEY_ROTATE_DAYS: 30, ACCESS_TOKEN_TTL_SECONDS: 600 });
});
afterAll(() => idp?.close());

const publishedKids = async () =>
  ((await (await fetch(`${idp.idpUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map(
    (k) => k.kid,
  );

describe('signing key rotation by age', () => {
  it('replaces a key older than SIGNING_KEY_ROTATE_DAYS on the next sign-in and drops it after the grace', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const oldKid = await calculateJwkThumbprint(publicJwk);
    await idp.idpPool.query(
      `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created_at)
       VALUES ($1, 'EdDSA', $2, $3, now() - interval '31 days')`,
      [
        oldKid,
        { ...publicJwk, kid: oldKid, alg: 'EdDSA', use: 'sig' },
        { ...(await exportJWK(privateKey)), kid: oldKid },
      ],
    );
    const session = await idp.call('/auth/anonymous');
    const newKid = decodeProtectedHeader(session.body.accessToken).kid;
    expect(newKid).not.toBe(oldKid);
    const { rows } = await idp.idpPool.query(
      'SELECT kid, retired_at IS NOT NULL AS retired FROM signing_keys ORDER BY created_at',
    );
    expect(rows).toEqual([
      { kid: oldKid, retired: true },
      { kid: newKid, retired: false },
    ]);
    expect(await publishedKids()).toEqual([newKid, oldKid]);
    // Retired longer ago than the token lifetime (600 s) plus the replica cache: its tokens are all expired.
    await idp.idpPool.query("UPDATE signing_keys SET retired_at = now() - interval '631 seconds' WHERE kid = $1", [
      oldKid,
    ]);
    expect(await publishedKids()).toEqual([newKid]);
  });
});
