import { createAuditSink, createLogger } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadGatewayConfig } from './config.js';

// The only file of the standalone gateway that touches process.*.
const config = loadGatewayConfig();
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const audit = config.AUDIT_LOG_URL
  ? await createAuditSink({
      url: config.AUDIT_LOG_URL,
      serviceToken: config.SERVICE_TOKEN,
      outboxFile: config.AUDIT_OUTBOX_FILE,
      logger,
    })
  : undefined;
const app = buildApp({ config, logger, ...(audit ? { audit } : {}) });
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
