import { createLogger } from '@taidon/kit';
import { loadAuditLogConfig } from './config.js';
import { startAuditLog } from './start.js';

// The only file of audit-log that touches process.*: config, logger, start, listen, graceful close.
const config = loadAuditLogConfig();
const logger = createLogger({ service: 'audit-log', level: config.LOG_LEVEL });
const service = await startAuditLog(config, { logger });
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
