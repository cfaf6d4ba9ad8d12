import { createLogger } from '@taidon/kit';
import { loadSqlRunnerConfig } from './config.js';
import { startSqlRunner } from './start.js';

// The only file of sql-runner that touches process.*: config, logger, start, listen, graceful close.
const config = loadSqlRunnerConfig();
const logger = createLogger({ service: 'sql-runner', level: config.LOG_LEVEL });
const service = await startSqlRunner(config, { logger });
await service.app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'close failed');
        process.exit(1);
      },
    );
  });
}
