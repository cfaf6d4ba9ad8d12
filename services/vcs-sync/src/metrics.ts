import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';

/** The series vcs-sync's git calls update. */
export interface GitMetrics {
  registry: Registry;
  /** Git commands by subcommand and outcome (ok, refused: an exit code that is an answer, error, timeout). */
  operations: Counter<'operation' | 'outcome'>;
  durationSeconds: Histogram<'operation' | 'outcome'>;
  /** Remote operations (pull, push, import) by outcome: what they did, or the code they answered. */
  remoteOperations: Counter<'operation' | 'outcome'>;
  remoteDurationSeconds: Histogram<'operation' | 'outcome'>;
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
    remoteOperations: new Counter({
      name: 'taidon_git_remote_operations_total',
      help: 'Pulls, pushes and imports of projects, by outcome (what they did, or the error code they answered).',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    remoteDurationSeconds: new Histogram({
      name: 'taidon_git_remote_operation_duration_seconds',
      help: 'Time one pull, push or import took, by outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };
}

/**
 * Runs one remote operation, counting it by outcome: the status it answers
 * (`pushed`, `fast-forward`, …) or, when it fails, its error code.
 */
export async function measureRemote<T extends object>(
  metrics: GitMetrics,
  operation: 'pull' | 'push' | 'import' | 'merge',
  work: () => Promise<T>,
): Promise<T> {
  const begin = performance.now();
  let outcome = 'error';
  try {
    const result = await work();
    const status = (result as { status?: unknown }).status;
    outcome = typeof status === 'string' ? status : 'ok';
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    outcome = typeof code === 'string' ? code : 'error';
    throw error;
  } finally {
    metrics.remoteOperations.inc({ operation, outcome });
    metrics.remoteDurationSeconds.observe({ operation, outcome }, (performance.now() - begin) / 1000);
  }
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
