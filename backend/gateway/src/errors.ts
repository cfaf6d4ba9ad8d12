import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { CONNECTION_LIMIT_ERROR_CODES, KIT_ERROR_CODES } from '@taidon/kit';
import { RATE_LIMITED } from './hardening.js';
import { OIDC_STATE_MISMATCH } from './routes/auth-oidc.js';
import { UPSTREAM_UNAVAILABLE } from './upstream.js';

/** Every code the gateway itself answers with; services' codes pass through unchanged. */
export const GATEWAY_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  ...CONNECTION_LIMIT_ERROR_CODES,
  [UPSTREAM_UNAVAILABLE]: 'A service behind the gateway did not answer within the deadline (503).',
  [RATE_LIMITED]:
    'The account (authenticated routes) or the client address (public routes) sent too many requests in the window; `Retry-After` and `retryAfterSeconds` say when to retry (429).',
  [ACCOUNT_ERROR_CODES.forbidden]: 'The caller’s role (in the token and in user-profile) may not use the route (403).',
  [OIDC_STATE_MISMATCH]:
    'The OIDC callback’s `state` is not the one this browser started with (its state cookie), a sign of login CSRF (400).',
  [ACCOUNT_ERROR_CODES.instanceNotFound]:
    'The caller has no instance with this id; another account’s answers the same (404).',
};
