import { createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AuditLogConfig } from './config.js';
import { registerEventRoutes } from './routes/events.js';

/** What audit-log needs from the outside world. */
export interface AuditLogDeps {
  config: Pick<AuditLogConfig, 'SERVICE_TOKEN'>;
  /** A pool logged in as the service's own role (which can only read and append once sealed). */
  pool: pg.Pool;
  logger: Logger;
}

/** audit-log: the append-only, hash-chained record of who did what. */
export function buildApp(deps: AuditLogDeps): FastifyInstance {
  const app = createBaseApp({
    service: 'audit-log',
    logger: deps.logger,
    readiness: { database: pingPool(deps.pool) },
    // It calls no other service (createBaseApp's hopContext).
    hopContext: false,
    // A full batch of 500 events with 2 KiB details fits.
    bodyLimitBytes: 2 * 1024 * 1024,
  });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  registerEventRoutes(app, deps.pool);
  return app;
}
