import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { EnvManagerClient } from './clients/env-manager.js';
import { loadSqlRunnerConfig } from './config.js';
import { engineIdentity } from './domain/engine-info.js';
import { createRunnerDeps } from './domain/runs/deps.js';
import { migrateSqlRunner } from './migrate.js';

// The only file of sql-runner that touches process.*: config, logger, app, listen, graceful close.
const config = loadSqlRunnerConfig();
const logger = createLogger({ service: 'sql-runner', level: config.LOG_LEVEL });
const pool = createPool(config.SQL_RUNNER_DATABASE_URL, { applicationName: 'taidon-sql-runner' });
await migrateSqlRunner(pool);
const envManager = new EnvManagerClient({
  name: 'env-manager',
  baseUrl: config.ENV_MANAGER_URL,
  serviceToken: config.SERVICE_TOKEN,
  timeoutMs: 10_000,
});
const engine = engineIdentity(await envManager.engine());
const app = buildApp({
  config,
  engine,
  logger,
  runs: createRunnerDeps(config, pool, logger),
  warmPoolEmpty: config.RUN_WARM_POOL_EMPTY,
});
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
