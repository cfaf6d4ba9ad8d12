import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable idp reads. */
export const idpConfigSpec = {
  IDP_DATABASE_URL: envUrl("Connection URL of idp's own role on the control-plane PostgreSQL (schema `idp`).", {
    secret: true,
    protocols: ['postgres:', 'postgresql:'],
  }),
  USER_PROFILE_URL: envUrl('Base URL of user-profile, which creates accounts and knows their role.'),
  IDP_ISSUER: envString('`iss` claim of the access tokens idp signs; the gateway checks it.', {
    default: 'taidon-idp',
  }),
  ACCESS_TOKEN_AUDIENCE: envString('`aud` claim of access tokens; the gateway checks it.', { default: 'taidon' }),
  ACCESS_TOKEN_TTL_SECONDS: envInt('Lifetime of an access token, in seconds.', { default: 900, min: 30, max: 86_400 }),
  REFRESH_TOKEN_TTL_SECONDS: envInt(
    'Lifetime of a refresh token, in seconds; every use rotates it and starts a new lifetime.',
    { default: 30 * 86_400, min: 60, max: 365 * 86_400 },
  ),
  SIGNING_KEY_ROTATE_DAYS: envInt(
    'Age in days after which the signing key is replaced on the next sign-in; 0 rotates only on `POST /keys/rotate`.',
    { default: 30, min: 0, max: 3_650 },
  ),
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT: envInt('Failed password sign-ins one email may have per window before 429.', {
    default: 5,
    min: 1,
    max: 10_000,
  }),
  SIGN_IN_MAX_FAILURES_PER_IP: envInt('Failed password sign-ins one client address may have per window before 429.', {
    default: 50,
    min: 1,
    max: 1_000_000,
  }),
  SIGN_IN_WINDOW_SECONDS: envInt('Length of the sliding window of the sign-in failure limits, in seconds.', {
    default: 900,
    min: 1,
    max: 86_400,
  }),
  OIDC_ISSUER_URL: envOptional('Issuer URL of an OpenID Connect provider; unset, OIDC sign-in answers 404.'),
  OIDC_CLIENT_ID: envOptional('Client id registered at the OIDC provider.'),
  OIDC_CLIENT_SECRET: envOptional('Client secret registered at the OIDC provider.', { secret: true }),
  OIDC_REDIRECT_URL: envOptional(
    'Public URL of the gateway route `/api/auth/oidc/callback`, registered at the provider. Default: `http://127.0.0.1:8080/api/auth/oidc/callback`.',
  ),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8081, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** idp's validated, frozen configuration. */
export type IdpConfig = ConfigOf<typeof idpConfigSpec>;

/** Reads idp's configuration from the environment, reporting every bad variable at once. */
export function loadIdpConfig(env: NodeJS.ProcessEnv = process.env): IdpConfig {
  return loadConfig(idpConfigSpec, env);
}
