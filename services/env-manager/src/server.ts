import { createLogger } from '@taidon/kit';
import { loadEnvManagerConfig } from './config.js';
import { startEnvManager } from './start.js';

// The only file of env-manager that touches process.*: config, logger, start, listen, graceful close.
// stopInstancesOnClose stays off: the servers stop with the process (ADR 0024), and the next start takes
// their instances over (Suspended, resumed by their next run).
const config = loadEnvManagerConfig();
const logger = createLogger({ service: 'env-manager', level: config.LOG_LEVEL });
const service = await startEnvManager(config, { logger });
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
