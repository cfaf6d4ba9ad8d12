import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { authOf, cacheOf, gitOf, instancesOf, layersOf, runsOf } from '../src/operator-overview.js';
import { histogramOf, parsePrometheusText, quantileOf } from '../src/prometheus-text.js';

describe('the Prometheus text reader', () => {
  it('reads names, escaped label values, special values, and skips comments and unreadable lines', () => {
    const samples = parsePrometheusText(
      [
        '# HELP taidon_x An x.',
        '# TYPE taidon_x counter',
        'taidon_x{service="a",path="C:\\\\dir \\"q\\"\\nnext"} 3',
        'taidon_x 4 1700000000000',
        'taidon_y{le="+Inf"} +Inf',
        'taidon_broken{le="1" 2',
        'taidon_nan NaN',
        '',
      ].join('\n'),
    );
    expect(samples.get('taidon_x')).toEqual([
      { name: 'taidon_x', labels: { service: 'a', path: 'C:\\dir "q"\nnext' }, value: 3 },
      { name: 'taidon_x', labels: {}, value: 4 },
    ]);
    expect(samples.get('taidon_y')?.[0]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples.has('taidon_broken')).toBe(false);
    expect(Number.isNaN(samples.get('taidon_nan')?.[0]?.value)).toBe(true);
  });

  it('estimates quantiles from buckets as histogram_quantile does, on prom-client’s own text', async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 0.5, 1], registers: [registry] });
    for (const seconds of [0.05, 0.05, 0.3, 0.3, 0.3, 0.3, 0.7, 0.7, 0.7, 5]) histogram.observe(seconds);
    const figures = histogramOf(parsePrometheusText(await registry.metrics()), 'h_seconds');
    expect(figures.count).toBe(10);
    expect(figures.sum).toBeCloseTo(8.4);
    // rank 5 of 10: the 3rd of the 4 observations in (0.1, 0.5] → 0.1 + 0.4 × 3/4.
    expect(quantileOf(figures, 0.5)).toBeCloseTo(0.4);
    // rank 9.5 lies in the +Inf bucket: the largest finite bound.
    expect(quantileOf(figures, 0.95)).toBe(1);
    expect(quantileOf(histogramOf(parsePrometheusText(''), 'h_seconds'), 0.5)).toBeUndefined();
  });
});

describe('the overview sections', () => {
  it('sums runs by outcome, cache results and ratio, and latency by source from sql-runner’s series', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'sql-runner' });
    const runs = new Counter({ name: 'taidon_runs_total', help: 'r', labelNames: ['outcome'], registers: [registry] });
    runs.inc({ outcome: 'ok' }, 5);
    runs.inc({ outcome: 'error' }, 2);
    const lookups = new Counter({
      name: 'taidon_cache_lookups_total',
      help: 'l',
      labelNames: ['result'],
      registers: [registry],
    });
    lookups.inc({ result: 'hit' }, 6);
    lookups.inc({ result: 'partial' }, 1);
    lookups.inc({ result: 'miss' }, 1);
    const ready = new Histogram({
      name: 'taidon_run_state_ready_seconds',
      help: 's',
      labelNames: ['source'],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    ready.observe({ source: 'session' }, 0.005);
    ready.observe({ source: 'clone' }, 0.05);
    ready.observe({ source: 'clone' }, 0.07);
    const samples = parsePrometheusText(await registry.metrics());
    const figures = runsOf(samples);
    expect(figures.total).toBe(7);
    expect(figures.byOutcome).toEqual([
      { outcome: 'ok', count: 5 },
      { outcome: 'error', count: 2 },
    ]);
    expect(figures.stateReadyBySource.map((row) => [row.source, row.count])).toEqual([
      ['clone', 2],
      ['session', 1],
    ]);
    expect(figures.stateReadyBySource[0]?.meanSeconds).toBeCloseTo(0.06);
    expect(figures.head).toEqual({ count: 0, meanSeconds: null, p50Seconds: null, p95Seconds: null });
    expect(cacheOf(samples)).toMatchObject({ hit: 6, partial: 1, miss: 1, hitRatio: 0.875 });
  });

  it('reads instances by state, layers against the budget, refusals and git errors', async () => {
    const registry = new Registry();
    const instances = new Gauge({ name: 'taidon_instances', help: 'i', labelNames: ['state'], registers: [registry] });
    instances.set({ state: 'Running' }, 3);
    instances.set({ state: 'Suspended' }, 1);
    new Gauge({ name: 'taidon_layer_bytes', help: 'b', registers: [registry] }).set(4096);
    new Gauge({ name: 'taidon_layer_budget_bytes', help: 'b', registers: [registry] }).set(8192);
    new Counter({ name: 'taidon_layer_evictions_total', help: 'e', registers: [registry] }).inc(2);
    const requests = new Counter({
      name: 'taidon_http_requests_total',
      help: 'h',
      labelNames: ['route', 'status_code'],
      registers: [registry],
    });
    requests.inc({ route: '/api/runs', status_code: '401' }, 4);
    requests.inc({ route: '/api/auth/login', status_code: '401' }, 1);
    requests.inc({ route: '/api/admin/accounts', status_code: '403' }, 2);
    requests.inc({ route: '/api/auth/login', status_code: '429' }, 3);
    requests.inc({ route: '/api/runs', status_code: '429' }, 9);
    const git = new Counter({
      name: 'taidon_git_operations_total',
      help: 'g',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    });
    git.inc({ operation: 'fetch', outcome: 'timeout' });
    git.inc({ operation: 'push', outcome: 'error' }, 2);
    git.inc({ operation: 'status', outcome: 'ok' }, 50);
    const remote = new Counter({
      name: 'taidon_git_remote_operations_total',
      help: 'r',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    });
    remote.inc({ operation: 'push', outcome: 'pushed' }, 3);
    remote.inc({ operation: 'pull', outcome: 'VCS_SYNC_REMOTE_UNREACHABLE' }, 2);
    const samples = parsePrometheusText(await registry.metrics());
    expect(instancesOf(samples).byState).toEqual([
      { state: 'Running', count: 3 },
      { state: 'Suspended', count: 1 },
    ]);
    expect(layersOf(samples)).toMatchObject({ bytes: 4096, budgetBytes: 8192, evictions: 2, count: 0 });
    expect(layersOf(parsePrometheusText('taidon_layers 1')).budgetBytes).toBeNull();
    expect(authOf(samples)).toMatchObject({ unauthorized: 5, forbidden: 2, signInThrottled: 3 });
    expect(gitOf(samples)).toMatchObject({ commandErrors: 3, remoteErrors: 2 });
    expect(gitOf(samples).remote[0]).toEqual({ operation: 'push', outcome: 'pushed', count: 3 });
  });
});
