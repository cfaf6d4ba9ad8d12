export { buildApp, type VcsSyncDeps } from './app.js';
export { type QuotaSource, userProfileQuotas } from './clients/user-profile.js';
export { DEFAULT_TEMPLATES_DIR, loadVcsSyncConfig, type VcsSyncConfig, vcsSyncConfigSpec } from './config.js';
export { VCS_SYNC_ERROR_CODES } from './errors.js';
export { migrateVcsSync, VCS_SYNC_MIGRATIONS_DIR } from './migrate.js';
export { type StartedVcsSync, startVcsSync } from './start.js';
