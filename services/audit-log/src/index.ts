export { type AuditLogDeps, buildApp } from './app.js';
export { type AuditLogConfig, auditLogConfigSpec, loadAuditLogConfig } from './config.js';
export { canonicalJson, chainHash, GENESIS_HASH } from './domain/chain.js';
export { AUDIT_LOG_ERROR_CODES } from './errors.js';
export { AUDIT_LOG_MIGRATIONS_DIR, migrateAuditLog } from './migrate.js';
export { AUDIT_OWNER_ROLE, sealAuditLog } from './seal.js';
export { type StartedAuditLog, startAuditLog } from './start.js';
