import { type ConfigOf, envInt, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable idp reads. */
export const idpConfigSpec = {
  IDP_DATABASE_URL: envUrl("Connection URL of idp's own role on the control-plane PostgreSQL (schema `idp`).", {
    secret: true,
    protocols: ['postgres:', 'postgresql:'],
  }),
  IDP_ISSUER: envString('`iss` claim of the access tokens idp signs; the gateway checks it.', {
    default: 'taidon-idp',
  }),
  ACCESS_TOKEN_AUDIENCE: envString('`aud` claim of access tokens; the gateway checks it.', { default: 'taidon' }),
  ACCESS_TOKEN_TTL_SECONDS: envInt('Lifetime of an access token, in seconds.', { default: 900, min: 30, max: 86_400 }),
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
