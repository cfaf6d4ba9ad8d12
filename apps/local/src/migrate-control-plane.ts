import { migrateAuditLog, sealAuditLog } from '@taidon/audit-log';
import { migrateEnvManager } from '@taidon/env-manager';
import { migrateExercises } from '@taidon/exercises';
import { migrateIdp } from '@taidon/idp';
import { createLogger, createPool } from '@taidon/kit';
import { migrateSnapshotCache } from '@taidon/snapshot-cache';
import { migrateSqlRunner } from '@taidon/sql-runner';
import { migrateUserProfile } from '@taidon/user-profile';
import { migrateVcsSync } from '@taidon/vcs-sync';
import type pg from 'pg';
import { CONTROL_PLANE_DATABASE, openControlPlane } from './launcher/control-plane.js';

// The chart's migration Job (a pre-install/pre-upgrade hook): on an external control-plane PostgreSQL, give
// each service its role and schema (the password is the one in that service's own URL), apply every
// service's migrations with its own role, and seal the audit log. Idempotent: it runs before every upgrade.
// Environment: CONTROL_PLANE_SUPERUSER_URL (a superuser of the server; any database, `taidon` is created on
// it) and <SERVICE>_DATABASE_URL for each service, as the Deployments get them (every one required).

const MIGRATIONS: Record<string, (pool: pg.Pool) => Promise<string[]>> = {
  'audit-log': migrateAuditLog,
  'user-profile': migrateUserProfile,
  idp: migrateIdp,
  'vcs-sync': migrateVcsSync,
  'snapshot-cache': migrateSnapshotCache,
  'env-manager': migrateEnvManager,
  'sql-runner': migrateSqlRunner,
  exercises: migrateExercises,
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const log = createLogger({ service: 'migrate-control-plane', level: process.env.LOG_LEVEL ?? 'info' });
const superuserUrl = required('CONTROL_PLANE_SUPERUSER_URL');
const urlVariable = (service: string) => `${service.toUpperCase().replace(/-/g, '_')}_DATABASE_URL`;
const serviceUrls = Object.fromEntries(
  Object.keys(MIGRATIONS).map((service) => [service, required(urlVariable(service))]),
);
const rolePasswords = Object.fromEntries(
  Object.entries(serviceUrls).map(([service, url]) => [service, decodeURIComponent(new URL(url).password)]),
);

const controlPlane = await openControlPlane({ dataDir: '', databaseUrl: superuserUrl, rolePasswords, onLog: () => {} });
log.info({ database: CONTROL_PLANE_DATABASE, services: Object.keys(rolePasswords) }, 'roles and schemas provisioned');
for (const [service, migrateService] of Object.entries(MIGRATIONS)) {
  const pool = createPool(serviceUrls[service] as string, { applicationName: 'taidon-migrate' });
  try {
    const applied = await migrateService(pool);
    log.info({ service, applied }, 'migrations applied');
  } finally {
    await pool.end();
  }
}
const audit = controlPlane.databases['audit-log'];
if (audit) await sealAuditLog(controlPlane.superuserUrl, audit);
log.info('audit log sealed');
