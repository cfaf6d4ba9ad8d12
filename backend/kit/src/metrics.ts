import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Each app has its own registry: the all-in-one process hosts several apps,
 * and each must expose only its own series under `/metrics`.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({
    register: registry,
    prefix: 'taidon_',
    eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS,
  });
  return registry;
}

/**
 * How often the event loop's delay is sampled (`taidon_nodejs_eventloop_lag_*`). prom-client's default, 10 ms,
 * wakes every process 100 times a second, busy or not: about 1 ms of CPU a second per process here, a fifth of
 * an idle service's. Ten samples a second still show a stalled loop (its max and p99) in every scrape.
 */
export const EVENT_LOOP_RESOLUTION_MS = 100;

/**
 * Per-route request rate, errors and latency (`taidon_http_requests_total`,
 * `taidon_http_request_errors_total`, `taidon_http_request_duration_seconds`),
 * labelled by the route pattern, never the raw URL, so cardinality stays bounded;
 * and `/metrics` in Prometheus text format.
 */
export function registerMetrics(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'taidon_http_requests_total',
    help: 'HTTP requests answered.',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'taidon_http_request_errors_total',
    help: 'HTTP requests answered with a 5xx status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taidon_http_request_duration_seconds',
    help: 'Time from request received to response sent.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    if (reply.statusCode >= 500) errors.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
