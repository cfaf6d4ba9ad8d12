import type {
  LatencySummary,
  OperatorAuth,
  OperatorCache,
  OperatorGit,
  OperatorInstances,
  OperatorLayers,
  OperatorRuns,
} from '@taidon/contracts';
import { type HistogramFigures, histogramOf, quantileOf, type Samples, sumBy, sumOf } from './prometheus-text.js';

/**
 * The operator page's figures, each read from the `/metrics` samples of the
 * service that exports it (ADR 0038): the same series, and the same sums, as
 * the chart's dashboards and alerts.
 */

function startedAt(samples: Samples): string | null {
  const seconds = sumOf(samples, 'taidon_process_start_time_seconds');
  return seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
}

function round(value: number | undefined, digits = 6): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function latency(histogram: HistogramFigures): LatencySummary {
  return {
    count: histogram.count,
    meanSeconds: histogram.count > 0 ? round(histogram.sum / histogram.count) : null,
    p50Seconds: round(quantileOf(histogram, 0.5)),
    p95Seconds: round(quantileOf(histogram, 0.95)),
  };
}

function latencyBySource(samples: Samples, name: string): ({ source: string } & LatencySummary)[] {
  return sumBy(samples, `${name}_count`, 'source').map(({ key }) => ({
    source: key,
    ...latency(histogramOf(samples, name, (labels) => labels.source === key)),
  }));
}

/** Runs by outcome, time to a ready state by source, head time and replayed steps (sql-runner). */
export function runsOf(samples: Samples): OperatorRuns {
  return {
    startedAt: startedAt(samples),
    total: sumOf(samples, 'taidon_runs_total'),
    byOutcome: sumBy(samples, 'taidon_runs_total', 'outcome').map(({ key, value }) => ({ outcome: key, count: value })),
    stateReadyBySource: latencyBySource(samples, 'taidon_run_state_ready_seconds'),
    head: latency(histogramOf(samples, 'taidon_run_head_seconds')),
    replaySteps: sumOf(samples, 'taidon_replay_steps_total'),
  };
}

/** Restores by result and the hit ratio the TaidonCacheHitRatioLow alert watches (sql-runner). */
export function cacheOf(samples: Samples): OperatorCache {
  const result = (name: string) => sumOf(samples, 'taidon_cache_lookups_total', (labels) => labels.result === name);
  const [hit, partial, miss] = [result('hit'), result('partial'), result('miss')];
  const all = sumOf(samples, 'taidon_cache_lookups_total');
  return { startedAt: startedAt(samples), hit, partial, miss, hitRatio: all > 0 ? round((hit + partial) / all) : null };
}

/** Instances by state, the warm pool, start failures and time to ready by source (env-manager). */
export function instancesOf(samples: Samples): OperatorInstances {
  return {
    startedAt: startedAt(samples),
    byState: sumBy(samples, 'taidon_instances', 'state').map(({ key, value }) => ({ state: key, count: value })),
    warmPool: sumOf(samples, 'taidon_warm_pool_instances'),
    startFailures: sumOf(samples, 'taidon_instance_start_failures_total'),
    readyBySource: latencyBySource(samples, 'taidon_instance_ready_seconds'),
  };
}

/** Layers, their bytes against the budget, evictions and clones from spares (snapshot-cache). */
export function layersOf(samples: Samples): OperatorLayers {
  const budget = samples.get('taidon_layer_budget_bytes');
  return {
    startedAt: startedAt(samples),
    count: sumOf(samples, 'taidon_layers'),
    bytes: sumOf(samples, 'taidon_layer_bytes'),
    budgetBytes: budget?.length ? sumOf(samples, 'taidon_layer_budget_bytes') : null,
    evictions: sumOf(samples, 'taidon_layer_evictions_total'),
    clonesFromSpares: sumOf(samples, 'taidon_layer_clones_from_spares_total'),
  };
}

/** The refusals the TaidonAuthErrorSpike alert counts, from the gateway's own request counter. */
export function authOf(samples: Samples): OperatorAuth {
  const status = (code: string) => (labels: Record<string, string>) => labels.status_code === code;
  return {
    startedAt: startedAt(samples),
    unauthorized: sumOf(samples, 'taidon_http_requests_total', status('401')),
    forbidden: sumOf(samples, 'taidon_http_requests_total', status('403')),
    signInThrottled: sumOf(
      samples,
      'taidon_http_requests_total',
      (labels) => labels.status_code === '429' && (labels.route ?? '').startsWith('/api/auth/'),
    ),
  };
}

/** An outcome of a remote operation that is an error code (`VCS_SYNC_…`), not what it did (`pushed`). */
function isErrorOutcome(outcome: string): boolean {
  return outcome === 'error' || /^[A-Z][A-Z0-9_]*$/.test(outcome);
}

/** Failed git commands (the TaidonGitErrorSpike alert's) and remote operations by outcome (vcs-sync). */
export function gitOf(samples: Samples): OperatorGit {
  const remote = (samples.get('taidon_git_remote_operations_total') ?? [])
    .map((sample) => ({
      operation: sample.labels.operation ?? '',
      outcome: sample.labels.outcome ?? '',
      count: sample.value,
    }))
    .sort((a, b) => b.count - a.count);
  return {
    startedAt: startedAt(samples),
    commandErrors: sumOf(
      samples,
      'taidon_git_operations_total',
      (labels) => labels.outcome === 'error' || labels.outcome === 'timeout',
    ),
    remoteErrors: remote.filter((row) => isErrorOutcome(row.outcome)).reduce((total, row) => total + row.count, 0),
    remote,
  };
}
