import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadAuditLogConfig } from './config.js';
import { migrateAuditLog } from './migrate.js';
import { sealAuditLog } from './seal.js';

// The only file of audit-log that touches process.*: config, logger, app, listen, graceful close.
const config = loadAuditLogConfig();
const logger = createLogger({ service: 'audit-log', level: config.LOG_LEVEL });
const pool = createPool(config.AUDIT_LOG_DATABASE_URL, { applicationName: 'taidon-audit-log' });
await migrateAuditLog(pool);
if (config.AUDIT_LOG_SUPERUSER_URL) {
  const role = decodeURIComponent(new URL(config.AUDIT_LOG_DATABASE_URL).username);
  await sealAuditLog(config.AUDIT_LOG_SUPERUSER_URL, { role, schema: 'audit_log' });
}
const app = buildApp({ config, pool, logger });
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
