import type { FastifyInstance } from 'fastify';

// The kit keeps each app's prom-client registry private to createBaseApp and
// prom-client is not a dependency of this package, so snapshot-cache renders
// its few series itself, in the same text format and with the same `service`
// label, and appends them to the kit's `/metrics` answer.
const SERVICE_LABEL = 'service="snapshot-cache"';
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A monotonically increasing count. */
export class Counter {
  private value = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(by = 1): void {
    this.value += by;
  }

  get count(): number {
    return this.value;
  }

  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n${this.name}{${SERVICE_LABEL}} ${this.value}\n`;
  }
}

/** A distribution of durations in seconds, with Prometheus cumulative buckets. */
export class Histogram {
  private readonly counts = SECONDS_BUCKETS.map(() => 0);
  private total = 0;
  private sum = 0;
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  observe(seconds: number): void {
    SECONDS_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
    this.total += 1;
    this.sum += seconds;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    SECONDS_BUCKETS.forEach((bound, i) => {
      lines.push(`${this.name}_bucket{${SERVICE_LABEL},le="${bound}"} ${this.counts[i] ?? 0}`);
    });
    lines.push(`${this.name}_bucket{${SERVICE_LABEL},le="+Inf"} ${this.total}`);
    lines.push(`${this.name}_sum{${SERVICE_LABEL}} ${this.sum}`, `${this.name}_count{${SERVICE_LABEL}} ${this.total}`);
    return `${lines.join('\n')}\n`;
  }
}

/** The series the domain updates. */
export interface SnapshotCacheMetrics {
  evictions: Counter;
  clonesFromSpares: Counter;
  cloneSeconds: Histogram;
  snapshotSeconds: Histogram;
}

/** Fresh counters for one app. */
export function createSnapshotCacheMetrics(): SnapshotCacheMetrics {
  return {
    evictions: new Counter('taidon_layer_evictions_total', 'Layers evicted to keep the total under the budget.'),
    clonesFromSpares: new Counter(
      'taidon_layer_clones_from_spares_total',
      'Volumes handed out as the clone made ahead of them (no clone on the request).',
    ),
    cloneSeconds: new Histogram('taidon_layer_clone_seconds', 'Time the driver took to clone a layer into a volume.'),
    snapshotSeconds: new Histogram(
      'taidon_layer_snapshot_seconds',
      'Time the driver took to snapshot a volume into a layer.',
    ),
  };
}

function gauge(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}{${SERVICE_LABEL}} ${value}\n`;
}

/**
 * Appends snapshot-cache's series to the `/metrics` answer: the counters and
 * histograms above, the `taidon_layers` / `taidon_layer_bytes` gauges read
 * from the database at scrape time, and the budget eviction keeps them under
 * (`taidon_layer_budget_bytes`, which the operator page shows beside them).
 */
export function exposeSnapshotCacheMetrics(
  app: FastifyInstance,
  metrics: SnapshotCacheMetrics,
  layerTotals: () => Promise<{ count: number; sizeBytes: number }>,
  budgetBytes: number,
): void {
  const budget = gauge('taidon_layer_budget_bytes', 'Bytes of layers eviction keeps the total under.', budgetBytes);
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url !== '/metrics' || reply.statusCode !== 200 || typeof payload !== 'string') {
      return payload;
    }
    const totals = await layerTotals().catch(() => undefined);
    const gauges = totals
      ? gauge('taidon_layers', 'Layers recorded.', totals.count) +
        gauge('taidon_layer_bytes', 'Bytes the recorded layers occupy.', totals.sizeBytes)
      : '';
    return `${payload}${gauges}${budget}${metrics.evictions.render()}${metrics.clonesFromSpares.render()}${metrics.cloneSeconds.render()}${metrics.snapshotSeconds.render()}`;
  });
}
