import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadIdpConfig } from './config.js';
import { migrateIdp } from './migrate.js';

// The only file of idp that touches process.*: config, logger, app, listen, graceful close.
const config = loadIdpConfig();
const logger = createLogger({ service: 'idp', level: config.LOG_LEVEL });
const pool = createPool(config.IDP_DATABASE_URL, { applicationName: 'taidon-idp' });
await migrateIdp(pool);
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
