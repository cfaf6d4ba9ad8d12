import { type ConfigOf, envInt, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable the gateway reads. */
export const gatewayConfigSpec = {
  IDP_URL: envUrl('Base URL of idp (sign-in, JWKS).'),
  SQL_RUNNER_URL: envUrl('Base URL of sql-runner (plans and runs).'),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  ACCESS_TOKEN_ISSUER: envString("`iss` that access tokens must carry (idp's IDP_ISSUER).", { default: 'taidon-idp' }),
  ACCESS_TOKEN_AUDIENCE: envString('`aud` that access tokens must carry.', { default: 'taidon' }),
  UPSTREAM_TIMEOUT_MS: envInt('Deadline of one call to a service, in milliseconds.', {
    default: 60_000,
    min: 100,
    max: 3_600_000,
  }),
  HOST: envString('Address to listen on; 0.0.0.0 to accept connections from other machines.', {
    default: '127.0.0.1',
  }),
  PORT: envInt('Public port of the platform.', { default: 8080, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** The gateway's validated, frozen configuration. */
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

/** Reads the gateway's configuration from the environment, reporting every bad variable at once. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
