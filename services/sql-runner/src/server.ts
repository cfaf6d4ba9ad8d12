import { createLogger, postgresVersion } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadSqlRunnerConfig } from './config.js';
import { SANDBOX_RESULT_SETTINGS } from './domain/engine.js';

// The only file of sql-runner that touches process.*: config, logger, app, listen, graceful close.
const config = loadSqlRunnerConfig();
const logger = createLogger({ service: 'sql-runner', level: config.LOG_LEVEL });
const engine = {
  version: config.SQL_RUNNER_ENGINE_VERSION ?? (await postgresVersion()),
  settings: SANDBOX_RESULT_SETTINGS,
};
const app = buildApp({ config, engine, logger });
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
