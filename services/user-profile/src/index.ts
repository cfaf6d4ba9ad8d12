export { buildApp, type UserProfileDeps } from './app.js';
export { loadUserProfileConfig, type UserProfileConfig, userProfileConfigSpec } from './config.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './domain/accounts.js';
export { USER_PROFILE_ERROR_CODES } from './errors.js';
export { migrateUserProfile, USER_PROFILE_MIGRATIONS_DIR } from './migrate.js';
export { type StartedUserProfile, startUserProfile } from './start.js';
