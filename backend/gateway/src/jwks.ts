import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { UnauthorizedError } from '@taidon/kit';

/** Shortest time between two JWKS fetches caused by unknown key ids, so forged kids cannot flood idp. */
export const JWKS_REFETCH_INTERVAL_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Public keys of idp by key id, fetched from its JWKS and refetched when a
 * token names a key the cache does not know (idp rotated its key).
 *
 * Refetches are rate-limited: at most one per `refetchIntervalMs`, shared by
 * every request waiting for it. A token with an unknown kid that arrives too
 * soon after the last fetch waits for the next allowed one instead of being
 * refused, so a key rotated just after a fetch is accepted within the
 * interval, while a flood of forged kids costs idp one request per interval.
 */
export class KeyCache {
  private keys = new Map<string, string>();
  private lastFetchMs = 0;
  private fetches = 0;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly jwksUrl: string,
    private readonly fetchJson: (url: string) => Promise<unknown>,
    private readonly refetchIntervalMs = JWKS_REFETCH_INTERVAL_MS,
  ) {}

  /** How many times the JWKS was fetched (tests and metrics). */
  get fetchCount(): number {
    return this.fetches;
  }

  /** PEM of the public key `kid`; throws UNAUTHORIZED when idp does not publish it. */
  async publicKey(kid: unknown): Promise<string> {
    if (typeof kid !== 'string') throw new UnauthorizedError('UNAUTHORIZED', 'The access token names no key.');
    let pem = this.keys.get(kid);
    if (pem === undefined) {
      await this.refresh();
      pem = this.keys.get(kid);
    }
    if (pem === undefined) {
      throw new UnauthorizedError('UNAUTHORIZED', 'The access token is signed with an unknown key.');
    }
    return pem;
  }

  private refresh(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const wait = this.lastFetchMs + this.refetchIntervalMs - Date.now();
        if (this.lastFetchMs > 0 && wait > 0) await sleep(wait);
        this.fetches++;
        this.lastFetchMs = Date.now();
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
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}
