import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadUserProfileConfig } from './config.js';
import { migrateUserProfile } from './migrate.js';

// The only file of user-profile that touches process.*: config, logger, app, listen, graceful close.
const config = loadUserProfileConfig();
const logger = createLogger({ service: 'user-profile', level: config.LOG_LEVEL });
const pool = createPool(config.USER_PROFILE_DATABASE_URL, { applicationName: 'taidon-user-profile' });
await migrateUserProfile(pool);
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
