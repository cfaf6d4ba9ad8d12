import { createLogger } from '@taidon/kit';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './start.js';

// The only file of the standalone gateway that touches process.*: config, logger, start, listen, graceful close.
const config = loadGatewayConfig();
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const service = await startGateway(config, { logger });
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
