import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable audit-log reads. */
export const auditLogConfigSpec = {
  AUDIT_LOG_DATABASE_URL: envUrl(
    "Connection URL of audit-log's own role on the control-plane PostgreSQL (schema `audit_log`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  AUDIT_LOG_SUPERUSER_URL: envOptional(
    'Superuser URL used once at start to seal the events table (owner passed to a NOLOGIN role). Leave unset when the migration Job seals it.',
    { secret: true },
  ),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8083, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** audit-log's validated, frozen configuration. */
export type AuditLogConfig = ConfigOf<typeof auditLogConfigSpec>;

/** Reads audit-log's configuration from the environment, reporting every bad variable at once. */
export function loadAuditLogConfig(env: NodeJS.ProcessEnv = process.env): AuditLogConfig {
  return loadConfig(auditLogConfigSpec, env);
}
