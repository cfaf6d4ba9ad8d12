import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ReadinessCheck, registerHealth } from './health.js';
import { createMetricsRegistry, registerMetrics } from './metrics.js';
import { registerProblemHandler } from './problem.js';

/** What every Taidon fastify app shares, whatever the service. */
export interface BaseAppOptions {
  service: string;
  logger: Logger;
  /** Named readiness checks behind `/health/ready`. */
  readiness?: Record<string, ReadinessCheck>;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes?: number;
  /** The registry `/metrics` serves; pass one to add the service's own series (createMetricsRegistry). */
  metrics?: Registry;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A fastify instance with the house plumbing registered explicitly: request
 * ids taken from `x-request-id` (or made) and logged as `reqId`, problem+json
 * errors, health and metrics. Services add their own routes on top.
 */
export function createBaseApp(options: BaseAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    requestIdHeader: 'x-request-id',
    logController: new LogController({ requestIdLogLabel: 'reqId' }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Closing the app (Ctrl+C, SIGTERM, tests) ends open streams too, instead of waiting for them.
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandler(app);
  registerHealth(app, options.readiness ?? {});
  registerMetrics(app, options.metrics ?? createMetricsRegistry(options.service));
  return app;
}
