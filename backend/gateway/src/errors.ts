import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import {
  CONNECTION_LIMIT_ERROR_CATALOGUE,
  catalogueErrorClass,
  type ErrorCatalogue,
  KIT_ERROR_CATALOGUE,
} from '@taidon/kit';

/** A service behind the gateway did not answer, broke off, or is not configured. */
export const UPSTREAM_UNAVAILABLE = 'GATEWAY_UPSTREAM_UNAVAILABLE';
/** Too many requests from one account or address. */
export const RATE_LIMITED = 'GATEWAY_RATE_LIMITED';
/** An OIDC callback this browser did not start. */
export const OIDC_STATE_MISMATCH = 'GATEWAY_OIDC_STATE_MISMATCH';

/**
 * Every code the gateway itself answers with, its status and its meaning: the
 * error class below, the README's errors table and test/readme.test.ts read
 * it. Services' codes pass through unchanged and are in their own catalogues.
 */
export const GATEWAY_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  ...CONNECTION_LIMIT_ERROR_CATALOGUE,
  [UPSTREAM_UNAVAILABLE]: {
    status: 503,
    meaning: 'A service behind the gateway did not answer within the deadline, or is not configured behind it.',
  },
  [RATE_LIMITED]: {
    status: 429,
    meaning:
      'The account (authenticated routes) or the client address (public routes) sent too many requests in the window; `Retry-After` and `retryAfterSeconds` say when to retry.',
  },
  [ACCOUNT_ERROR_CODES.forbidden]: {
    status: 403,
    meaning: 'The caller’s role (in the token and in user-profile) may not use the route.',
  },
  [OIDC_STATE_MISMATCH]: {
    status: 400,
    meaning:
      'The OIDC callback’s `state` is not the one this browser started with (its state cookie), a sign of login CSRF.',
  },
  [ACCOUNT_ERROR_CODES.instanceNotFound]: {
    status: 404,
    meaning: 'The caller has no instance with this id; another account’s answers the same.',
  },
} as const satisfies ErrorCatalogue;

/** One of the gateway's own codes. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_CODES;

/** Every error the gateway throws itself: its code must be in GATEWAY_ERROR_CODES, whose status it answers with. */
export class GatewayError extends catalogueErrorClass(GATEWAY_ERROR_CODES) {}

/** A service behind the gateway is not there (503). */
export function upstreamUnavailable(message: string, cause?: unknown): GatewayError {
  return new GatewayError(UPSTREAM_UNAVAILABLE, message, { cause });
}
