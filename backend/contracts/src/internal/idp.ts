import type { Role } from '../accounts.js';

// What the gateway and idp say to each other (plain types: idp validates with its own JSON schemas).

/**
 * Header in which the gateway passes the browser's address to idp (believed
 * only with the service token), for the per-address sign-in limit.
 */
export const CLIENT_IP_HEADER = 'x-taidon-client-ip';

/**
 * What idp's sign-in routes answer the gateway: the public access token
 * response plus the refresh token, which the gateway moves into an httpOnly
 * cookie and never shows to page scripts.
 */
export interface SessionTokens {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  /** Opaque; rotated on every use. */
  refreshToken: string;
  /** Seconds until the refresh token expires unused. */
  refreshExpiresIn: number;
  accountId: string;
  role: Role;
}

/** Where to send the browser, and the state the gateway binds to it in a cookie. */
export interface OidcStartResponse {
  authorizationUrl: string;
  state: string;
}
