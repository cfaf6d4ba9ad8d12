import type { Role } from '@taidon/contracts';

// Plain JSON Schemas (idp does not depend on typebox itself); the interfaces beside them are their types.

/**
 * Header in which the gateway passes the browser's address to idp (believed
 * only with the service token), for the per-address sign-in limit.
 */
export const CLIENT_IP_HEADER = 'x-taidon-client-ip';

const object = (properties: Record<string, unknown>, required: string[]) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;

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
export const SessionTokensSchema = object(
  {
    accessToken: { type: 'string' },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresIn: { type: 'integer' },
    refreshToken: { type: 'string' },
    refreshExpiresIn: { type: 'integer' },
    accountId: { type: 'string' },
    role: { type: 'string' },
  },
  ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'refreshExpiresIn', 'accountId', 'role'],
);

/** A refresh token handed back by the gateway (from the cookie; empty when there was none). */
export interface RefreshRequest {
  refreshToken: string;
}
export const RefreshRequestSchema = object({ refreshToken: { type: 'string', maxLength: 512 } }, ['refreshToken']);

/** Start of an OIDC login; with the refresh token of an anonymous session it upgrades that account. */
export interface OidcStartRequest {
  upgradeRefreshToken?: string;
}
export const OidcStartRequestSchema = object({ upgradeRefreshToken: { type: 'string', maxLength: 512 } }, []);

/** Where to send the browser, and the state the gateway binds to it in a cookie. */
export interface OidcStartResponse {
  authorizationUrl: string;
  state: string;
}
export const OidcStartResponseSchema = object({ authorizationUrl: { type: 'string' }, state: { type: 'string' } }, [
  'authorizationUrl',
  'state',
]);

/** The provider's callback query string, passed on unchanged by the gateway. */
export interface OidcCallbackRequest {
  query: string;
}
export const OidcCallbackRequestSchema = object({ query: { type: 'string', maxLength: 16_384 } }, ['query']);

/** Answer of a key rotation. */
export const RotateKeyResponseSchema = object({ kid: { type: 'string' } }, ['kid']);
