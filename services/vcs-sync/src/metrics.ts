import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';

/** The series vcs-sync's git calls update. */
export interface GitMetrics {
  registry: Registry;
  /** Git commands by subcommand and outcome (ok, refused: an exit code that is an answer, error, timeout). */
  operations: Counter<'operation' | 'outcome'>;
  durationSeconds: Histogram<'operation' | 'outcome'>;
}

/**
 * vcs-sync's own series, on a registry of its own appended to the kit's
 * `/metrics` answer (as env-manager does): the kit keeps the app's registry
 * private to createBaseApp.
 */
export function createGitMetrics(): GitMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'vcs-sync' });
  return {
    registry,
    operations: new Counter({
      name: 'taidon_git_operations_total',
      help: 'Git commands run for projects, by subcommand and outcome.',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: 'taidon_git_operation_duration_seconds',
      help: 'Time one git command took, by subcommand and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** Appends the git series to the kit's `/metrics` answer. */
export function exposeGitMetrics(app: FastifyInstance, metrics: GitMetrics): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url !== '/metrics' || reply.statusCode !== 200 || typeof payload !== 'string') {
      return payload;
    }
    return `${payload}${await metrics.registry.metrics()}`;
  });
}
