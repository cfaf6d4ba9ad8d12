import { createHash } from 'node:crypto';
import type pg from 'pg';
import { TooManyAttemptsError } from '../errors.js';
import { clearFailures, countFailures, recordFailure } from '../store/sign-in-failures.js';

/** Limits of failed password sign-ins, per account and per client address, over a sliding window. */
export interface AttemptLimits {
  maxPerAccount: number;
  maxPerIp: number;
  windowSeconds: number;
}

/**
 * Failed sign-ins are counted in idp's database (not in memory), so the
 * limit holds across replicas and restarts. The account key is a hash of the
 * email, unknown emails included, so the limit reveals nothing either.
 */
export class SignInAttempts {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: AttemptLimits,
  ) {}

  private keys(email: string, ip: string | undefined): { account: string; ip: string | undefined } {
    const account = `account:${createHash('sha256').update(email).digest('base64url')}`;
    return { account, ip: ip ? `ip:${ip}` : undefined };
  }

  /** Throws IDP_TOO_MANY_ATTEMPTS when either key has used up its failures. */
  async check(email: string, ip: string | undefined): Promise<void> {
    const keys = this.keys(email, ip);
    const counts = await countFailures(
      this.pool,
      [keys.account, ...(keys.ip ? [keys.ip] : [])],
      this.limits.windowSeconds,
    );
    const over = [
      [counts.get(keys.account), this.limits.maxPerAccount],
      [keys.ip ? counts.get(keys.ip) : undefined, this.limits.maxPerIp],
    ] as const;
    for (const [seen, max] of over) {
      if (seen && seen.count >= max) {
        throw new TooManyAttemptsError(Math.max(1, Math.ceil(this.limits.windowSeconds - seen.oldestAgeSeconds)));
      }
    }
  }

  /** Counts a failure against both keys. */
  async failed(email: string, ip: string | undefined): Promise<void> {
    const keys = this.keys(email, ip);
    await recordFailure(this.pool, [keys.account, ...(keys.ip ? [keys.ip] : [])], this.limits.windowSeconds);
  }

  /** A correct password clears the account's failures (not the address's). */
  async succeeded(email: string): Promise<void> {
    await clearFailures(this.pool, this.keys(email, undefined).account);
  }
}
