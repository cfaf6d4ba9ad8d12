import { createLogger } from '@taidon/kit';
import { loadIdpConfig } from './config.js';
import { startIdp } from './start.js';

// The only file of idp that touches process.*: config, logger, start, listen, graceful close.
const config = loadIdpConfig();
const logger = createLogger({ service: 'idp', level: config.LOG_LEVEL });
const service = await startIdp(config, { logger });
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
