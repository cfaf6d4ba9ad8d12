import { createLogger } from '@taidon/kit';
import { loadSnapshotCacheConfig } from './config.js';
import { startSnapshotCache } from './start.js';

// The only file of snapshot-cache that touches process.*: config, logger, start, listen, graceful close.
const config = loadSnapshotCacheConfig();
const logger = createLogger({ service: 'snapshot-cache', level: config.LOG_LEVEL });
const service = await startSnapshotCache(config, { logger });
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
