import { createAuditSink } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { GatewayConfig } from './config.js';

/** The gateway built and ready to listen; close() stops the app, which flushes its audit sink. */
export interface StartedGateway {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds the gateway from its validated config: the audit sink (AUDIT_LOG_URL,
 * its outbox in AUDIT_OUTBOX_FILE) and the app. The one way it is started: by
 * its server.ts, by the local launcher and by tests.
 */
export async function startGateway(config: GatewayConfig, options: { logger: Logger }): Promise<StartedGateway> {
  const { logger } = options;
  const audit = config.AUDIT_LOG_URL
    ? await createAuditSink({
        url: config.AUDIT_LOG_URL,
        serviceToken: config.SERVICE_TOKEN,
        outboxFile: config.AUDIT_OUTBOX_FILE,
        logger,
      })
    : undefined;
  const app = buildApp({ config, logger, ...(audit ? { audit } : {}) });
  return { app, close: () => app.close() };
}
