import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';
import { hardeningConfigSpec } from './hardening.js';
import { DEFAULT_SPA_DIR } from './routes/spa.js';

/** Every environment variable the gateway reads. */
export const gatewayConfigSpec = {
  IDP_URL: envUrl('Base URL of idp (sign-in, JWKS).'),
  SQL_RUNNER_URL: envUrl('Base URL of sql-runner (plans and runs).'),
  USER_PROFILE_URL: envOptional(
    'Base URL of user-profile (`/api/me`, `/api/admin/*`); unset, those routes answer 503.',
  ),
  ENV_MANAGER_URL: envOptional(
    'Base URL of env-manager (`/api/instances`, the instances in `/api/me`); unset, those routes answer 503.',
  ),
  VCS_SYNC_URL: envOptional('Base URL of vcs-sync (`/api/projects*`); unset, those routes answer 503.'),
  EXERCISES_URL: envOptional('Base URL of the exercises service (`/api/exercises*`); unset, those routes answer 503.'),
  SNAPSHOT_CACHE_URL: envOptional(
    'Base URL of snapshot-cache, read only for its `/metrics` by `/api/admin/overview`; unset, the overview has no layer figures.',
  ),
  AUDIT_LOG_URL: envOptional(
    'Base URL of audit-log: events go there through the outbox, and `/api/admin/audit*` reads it; unset, no events are sent and those routes answer 503.',
  ),
  AUDIT_OUTBOX_FILE: envString(
    'JSONL file keeping audit events until audit-log accepts them (standalone gateway; the all-in-one start puts it under TAIDON_DATA_DIR).',
    { default: 'audit-outbox/gateway.jsonl' },
  ),
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
  ...hardeningConfigSpec,
  SPA_DIR: envString(
    "Directory of the SPA's production bundle served at `/`. Default: `frontend/main/dist` of this checkout.",
    { default: DEFAULT_SPA_DIR },
  ),
};

/** The gateway's validated, frozen configuration. */
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

/** Reads the gateway's configuration from the environment, reporting every bad variable at once. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
