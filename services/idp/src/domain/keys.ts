import { withTransaction } from '@taidon/kit';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type pg from 'pg';
import { insertKey, retireOtherKeys, selectActiveKey, selectPublishedKeys } from '../store/signing-keys.js';

/** Algorithm of every access token: Ed25519 signatures, small and fast to verify. */
export const SIGNING_ALGORITHM = 'EdDSA';

/**
 * How long a replica keeps signing with the key it loaded before it looks
 * again; retired keys stay published this much longer than the token TTL,
 * so a token signed just before another replica rotated still verifies.
 */
export const KEY_CACHE_MS = 30_000;

/** The key that signs new tokens. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  createdAt: Date;
}

async function newKeyRow(): Promise<Parameters<typeof insertKey>[1]> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    algorithm: SIGNING_ALGORITHM,
    publicJwk: { ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid },
  };
}

/**
 * Creates a new signing key and retires the others in one transaction (an
 * advisory lock keeps two replicas from rotating at once). Returns the new kid.
 */
export async function rotateSigningKey(pool: pg.Pool): Promise<string> {
  const row = await newKeyRow();
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('idp.signing_keys'))");
    await insertKey(client, row);
    await retireOtherKeys(client, row.kid);
    return row.kid;
  });
}

/**
 * The signing keys of this idp, kept in the database so a restart (or
 * another replica) signs with the same key and issued tokens stay valid.
 * The first sign-in creates a key; a key older than `rotateAfterDays`
 * (0 = never) is replaced on the next sign-in.
 */
export class SigningKeys {
  private cached: { key: SigningKey; loadedAtMs: number } | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly rotateAfterDays: number,
  ) {}

  /** The key that signs now. */
  async active(): Promise<SigningKey> {
    const cached = this.cached;
    if (cached && Date.now() - cached.loadedAtMs < KEY_CACHE_MS && !this.isDue(cached.key)) return cached.key;
    let row = await selectActiveKey(this.pool);
    if (!row || this.isDue({ createdAt: row.createdAt })) {
      await rotateSigningKey(this.pool);
      row = await selectActiveKey(this.pool);
      if (!row) throw new Error('signing key vanished after insert');
    }
    const privateKey = (await importJWK(row.privateJwk as JWK, SIGNING_ALGORITHM)) as CryptoKey;
    const key = { kid: row.kid, privateKey, createdAt: row.createdAt };
    this.cached = { key, loadedAtMs: Date.now() };
    return key;
  }

  /** Rotates now (the admin route); this replica signs with the new key at once. */
  async rotate(): Promise<string> {
    const kid = await rotateSigningKey(this.pool);
    this.cached = undefined;
    return kid;
  }

  private isDue(key: { createdAt: Date }): boolean {
    return this.rotateAfterDays > 0 && Date.now() - key.createdAt.getTime() > this.rotateAfterDays * 86_400_000;
  }
}

/** The JWKS document: every public key whose tokens may still be valid. */
export async function publishedKeySet(pool: pg.Pool, tokenTtlSeconds: number): Promise<{ keys: JWK[] }> {
  const rows = await selectPublishedKeys(pool, tokenTtlSeconds + KEY_CACHE_MS / 1000);
  return { keys: rows.map((r) => r.publicJwk as JWK) };
}
