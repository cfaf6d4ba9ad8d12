import { KIT_ERROR_CODES } from '@taidon/kit';
import { UPSTREAM_UNAVAILABLE } from './upstream.js';

/** Every code the gateway itself answers with; services' codes pass through unchanged. */
export const GATEWAY_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  [UPSTREAM_UNAVAILABLE]: 'A service behind the gateway did not answer within the deadline (503).',
};
