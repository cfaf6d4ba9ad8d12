import { IdpApi } from '@taidon/contracts';

// Plain JSON Schemas (idp does not depend on typebox itself); the interfaces beside them are their types.

/** The header and answers the gateway reads are declared once, in contracts (IdpApi). */
export const CLIENT_IP_HEADER = IdpApi.CLIENT_IP_HEADER;
export type SessionTokens = IdpApi.SessionTokens;
export type OidcStartResponse = IdpApi.OidcStartResponse;

const object = (properties: Record<string, unknown>, required: string[]) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;

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
