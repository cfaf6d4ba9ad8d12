import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  applyConnectionLimits,
  type ConnectionLimits,
  clientErrorHandler,
  DEFAULT_CONNECTION_LIMITS,
  RAW_REQUEST_ID,
  serverTimeoutOptions,
} from './connection-limits.js';
import { type ReadinessCheck, registerHealth } from './health.js';
import { registerJsonBody } from './json-body.js';
import { createMetricsRegistry, registerMetrics } from './metrics.js';
import { registerProblemHandler } from './problem.js';
import { requestLoggerFactory } from './request-logger.js';
import { registerHopContext } from './service-client.js';

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
  /** Caps on connections and timeouts of requests; unset fields keep DEFAULT_CONNECTION_LIMITS. */
  limits?: Partial<ConnectionLimits>;
  /**
   * Whether callService finds the request's id by itself (registerHopContext, default true). false for a
   * service that calls no other or passes `requestId` on every call: the context is an AsyncLocalStorage, and
   * once one is used Node 20 runs a hook on every promise the process makes (1.5–3 % of a service's CPU).
   */
  hopContext?: boolean;
}

/** The documented form of `x-request-id`; anything else (too long, markup, spaces) is replaced by a new UUID. */
export const REQUEST_ID_FORMAT = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A fastify instance with the house plumbing registered explicitly: request
 * ids taken from `x-request-id` when they have the documented form (or made),
 * logged as `reqId` and passed on by callService on every hop, problem+json
 * for every refusal (fastify's, Node's and the connection caps'), JSON bodies
 * without prototype poisoning,
 * connection and request limits, health and metrics. Services add their own
 * routes on top.
 */
export function createBaseApp(options: BaseAppOptions): FastifyInstance {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  const registry = options.metrics ?? createMetricsRegistry(options.service);
  // Filled in once the server exists; Node emits no client error before a connection is accepted.
  let onClientError: (error: NodeJS.ErrnoException, socket: Socket) => void = (_error, socket) => socket.destroy();
  const app = Fastify({
    loggerInstance: options.logger,
    // Not the header itself: fastify would take it as it comes and never ask genReqId.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'reqId' }),
    // A request's pino child is made on its first line, not for every request (request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID_FORMAT.test(given) ? given : randomUUID();
      (request as { [RAW_REQUEST_ID]?: string })[RAW_REQUEST_ID] = id;
      return id;
    },
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    ...serverTimeoutOptions(limits),
    clientErrorHandler: (error, socket) => onClientError(error, socket),
    // Closing the app (Ctrl+C, SIGTERM, tests) ends open streams too, instead of waiting for them.
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  const limitMetrics = applyConnectionLimits(app.server, limits, registry);
  onClientError = clientErrorHandler(limits, options.logger, limitMetrics);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerJsonBody(app);
  if (options.hopContext !== false) registerHopContext(app);
  registerProblemHandler(app);
  registerHealth(app, options.readiness ?? {});
  registerMetrics(app, registry);
  return app;
}
