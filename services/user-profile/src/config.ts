import { type ConfigOf, envInt, envString, envUrl, loadConfig } from '@taidon/kit';

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
};

/** user-profile's validated, frozen configuration. */
export type UserProfileConfig = ConfigOf<typeof userProfileConfigSpec>;

/** Reads user-profile's configuration from the environment, reporting every bad variable at once. */
export function loadUserProfileConfig(env: NodeJS.ProcessEnv = process.env): UserProfileConfig {
  return loadConfig(userProfileConfigSpec, env);
}
