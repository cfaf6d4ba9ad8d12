import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { UnauthorizedError } from '@taidon/kit';

/** Shortest time between two JWKS fetches caused by unknown key ids, so forged kids cannot flood idp. */
const REFETCH_INTERVAL_MS = 5_000;

/**
 * Public keys of idp by key id, fetched from its JWKS and refreshed when a
 * token names a key the cache does not know (key rotation).
 */
export class KeyCache {
  private keys = new Map<string, string>();
  private lastFetchMs = 0;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly jwksUrl: string,
    private readonly fetchJson: (url: string) => Promise<unknown>,
  ) {}

  /** PEM of the public key `kid`; throws UNAUTHORIZED when idp does not publish it. */
  async publicKey(kid: unknown): Promise<string> {
    if (typeof kid !== 'string') throw new UnauthorizedError('UNAUTHORIZED', 'The access token names no key.');
    let pem = this.keys.get(kid);
    if (pem === undefined && Date.now() - this.lastFetchMs >= REFETCH_INTERVAL_MS) {
      await this.refresh();
      pem = this.keys.get(kid);
    }
    if (pem === undefined)
      throw new UnauthorizedError('UNAUTHORIZED', 'The access token is signed with an unknown key.');
    return pem;
  }

  private refresh(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const body = (await this.fetchJson(this.jwksUrl)) as { keys?: (JsonWebKey & { kid?: string })[] };
        const next = new Map<string, string>();
        for (const jwk of body.keys ?? []) {
          if (typeof jwk.kid !== 'string') continue;
          next.set(
            jwk.kid,
            createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString(),
          );
        }
        this.keys = next;
        this.lastFetchMs = Date.now();
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}
