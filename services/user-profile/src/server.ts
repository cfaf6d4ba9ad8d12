import { createLogger } from '@taidon/kit';
import { loadUserProfileConfig } from './config.js';
import { startUserProfile } from './start.js';

// The only file of user-profile that touches process.*: config, logger, start, listen, graceful close.
const config = loadUserProfileConfig();
const logger = createLogger({ service: 'user-profile', level: config.LOG_LEVEL });
const service = await startUserProfile(config, { logger });
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
