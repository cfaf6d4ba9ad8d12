import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type pg from 'pg';
import { insertKey, selectActiveKey, selectPublishedKeys } from '../store/signing-keys.js';

/** Algorithm of every access token: Ed25519 signatures, small and fast to verify. */
export const SIGNING_ALGORITHM = 'EdDSA';

/** The key that signs new tokens. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * The signing key of this idp, created on first use and kept in the
 * database, so a restart (or another replica) signs with the same key and
 * tokens already issued stay valid.
 */
export async function activeSigningKey(pool: pg.Pool): Promise<SigningKey> {
  let row = await selectActiveKey(pool);
  if (!row) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    await insertKey(pool, {
      kid,
      algorithm: SIGNING_ALGORITHM,
      publicJwk: { ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' },
      privateJwk: { ...(await exportJWK(privateKey)), kid },
    });
    row = await selectActiveKey(pool);
    if (!row) throw new Error('signing key vanished after insert');
  }
  const privateKey = (await importJWK(row.privateJwk as JWK, SIGNING_ALGORITHM)) as CryptoKey;
  return { kid: row.kid, privateKey };
}

/** The JWKS document: every public key whose tokens may still be valid. */
export async function publishedKeySet(pool: pg.Pool, tokenTtlSeconds: number): Promise<{ keys: JWK[] }> {
  const rows = await selectPublishedKeys(pool, tokenTtlSeconds);
  return { keys: rows.map((r) => r.publicJwk as JWK) };
}
