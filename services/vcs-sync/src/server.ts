import { createLogger } from '@taidon/kit';
import { loadVcsSyncConfig } from './config.js';
import { startVcsSync } from './start.js';

// The only file of vcs-sync that touches process.*: config, logger, start, listen, graceful close.
const config = loadVcsSyncConfig();
const logger = createLogger({ service: 'vcs-sync', level: config.LOG_LEVEL });
const service = await startVcsSync(config, { logger });
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
