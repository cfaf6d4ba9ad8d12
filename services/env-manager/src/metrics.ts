import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { INSTANCE_STATES } from './domain/states.js';
import { countByState, countPooled } from './store/instances.js';

/** The series env-manager's domain updates. */
export interface EnvManagerMetrics {
  registry: Registry;
  /** Seconds from request to a connectable instance, by how it was obtained. */
  readySeconds: Histogram<'source'>;
  startFailures: Counter;
  /** Sandbox databases recreated from an instance's template database instead of a new instance (ADR 0029). */
  templateResets: Counter;
  /** kubernetes runtime: node agents' clones that no TaidonInstance named, freed by the reconciler's sweep. */
  orphanClonesFreed: Counter;
}

/**
 * env-manager's own series, on a registry of its own: the kit keeps the app's
 * registry private to createBaseApp, so these are appended to its `/metrics`
 * answer (see exposeEnvManagerMetrics). Gauges are read from the database at
 * scrape time, so every replica reports the same truth.
 */
export function createEnvManagerMetrics(
  pool: pg.Pool,
  options: {
    /**
     * Where the instances are counted per state: the database's rows by default; on the kubernetes runtime the
     * TaidonInstances, which are the record there.
     */
    countByState?: () => Promise<Partial<Record<string, number>>>;
  } = {},
): EnvManagerMetrics {
  const count = options.countByState ?? (() => countByState(pool));
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'env-manager' });
  new Gauge({
    name: 'taidon_instances',
    help: 'Instances per state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await count();
      for (const state of INSTANCE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'taidon_warm_pool_instances',
    help: 'Pooled instances starting or ready, per pool key (first 12 characters).',
    labelNames: ['key_prefix'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [key, n] of Object.entries(await countPooled(pool))) this.set({ key_prefix: key.slice(0, 12) }, n);
    },
  });
  return {
    registry,
    readySeconds: new Histogram({
      name: 'taidon_instance_ready_seconds',
      help: 'Time from request to a connectable instance, by source (pool, clone, template, resume).',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    startFailures: new Counter({
      name: 'taidon_instance_start_failures_total',
      help: 'PostgreSQL servers that did not become ready.',
      registers: [registry],
    }),
    orphanClonesFreed: new Counter({
      name: 'taidon_orphan_clones_freed_total',
      help: "Clones on the node agents that no TaidonInstance named, freed by the reconciler's sweep (kubernetes runtime).",
      registers: [registry],
    }),
    templateResets: new Counter({
      name: 'taidon_instance_template_resets_total',
      help: "Resets that recreated the sandbox database from the instance's template database (no new server).",
      registers: [registry],
    }),
  };
}

/** Appends env-manager's series to the kit's `/metrics` answer. */
export function exposeEnvManagerMetrics(app: FastifyInstance, metrics: EnvManagerMetrics): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url !== '/metrics' || reply.statusCode !== 200 || typeof payload !== 'string') {
      return payload;
    }
    return `${payload}${await metrics.registry.metrics()}`;
  });
}
