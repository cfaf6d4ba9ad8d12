import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable user-profile reads. */
export const userProfileConfigSpec = {
  USER_PROFILE_DATABASE_URL: envUrl(
    "Connection URL of user-profile's own role on the control-plane PostgreSQL (schema `user_profile`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8085, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
  USER_PROFILE_ADMIN_EMAILS: envOptional(
    'Comma-separated emails of registered accounts made `admin` at start while the platform has no admin (its first admin: sign in through the OpenID provider, then start with your email here). Only accounts whose email the provider verified (email_verified: true; a password sign-up proves nothing), that exist at that start, and nothing once an admin exists, so a list left set gives nothing to a later sign-up; each promotion is logged and audited. Unset: nobody is promoted.',
  ),
  AUDIT_LOG_URL: envOptional(
    'Base URL of audit-log: role changes this service makes itself (USER_PROFILE_ADMIN_EMAILS) go there through the outbox; unset, none are recorded.',
  ),
  AUDIT_OUTBOX_FILE: envString('JSONL file keeping audit events until audit-log accepts them.', {
    default: 'audit-outbox/user-profile.jsonl',
  }),
};

/** user-profile's validated, frozen configuration. */
export type UserProfileConfig = ConfigOf<typeof userProfileConfigSpec>;

/** Reads user-profile's configuration from the environment, reporting every bad variable at once. */
export function loadUserProfileConfig(env: NodeJS.ProcessEnv = process.env): UserProfileConfig {
  return loadConfig(userProfileConfigSpec, env);
}
