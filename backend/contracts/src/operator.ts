import { type Static, type TSchema, Type } from 'typebox';

const Count = Type.Number({ minimum: 0, description: 'Count since the answering service process started.' });
const Seconds = Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
  description: 'Seconds; null when nothing was observed yet.',
});
const StartedAt = Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
  description: 'When the service process that answered started: its counters count from then.',
});

/** A latency distribution as the service's histogram gives it: count, mean and estimated quantiles. */
export const LatencySummary = Type.Object(
  {
    count: Count,
    meanSeconds: Seconds,
    p50Seconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'Median estimated from the histogram buckets, as Prometheus histogram_quantile does.',
    }),
    p95Seconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: '95th percentile estimated from the histogram buckets.',
    }),
  },
  { additionalProperties: false },
);
export type LatencySummary = Static<typeof LatencySummary>;

/** sql-runner's run figures (taidon_runs_total, taidon_run_state_ready_seconds, taidon_run_head_seconds). */
export const OperatorRuns = Type.Object(
  {
    startedAt: StartedAt,
    total: Count,
    byOutcome: Type.Array(Type.Object({ outcome: Type.String(), count: Count }, { additionalProperties: false })),
    stateReadyBySource: Type.Array(
      Type.Object({ source: Type.String(), ...LatencySummary.properties }, { additionalProperties: false }),
      { description: 'Time from a run request to an instance at its starting state, by how it was obtained.' },
    ),
    head: LatencySummary,
    replaySteps: Count,
  },
  { additionalProperties: false },
);

/** sql-runner's restores by result (taidon_cache_lookups_total). */
export const OperatorCache = Type.Object(
  {
    startedAt: StartedAt,
    hit: Count,
    partial: Count,
    miss: Count,
    hitRatio: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: '(hit + partial) / all restores, as the TaidonCacheHitRatioLow alert counts it; null before any.',
    }),
  },
  { additionalProperties: false },
);

/** env-manager's instances (taidon_instances, read from its database: the same on every replica). */
export const OperatorInstances = Type.Object(
  {
    startedAt: StartedAt,
    byState: Type.Array(Type.Object({ state: Type.String(), count: Count }, { additionalProperties: false })),
    warmPool: Count,
    startFailures: Count,
    readyBySource: Type.Array(
      Type.Object({ source: Type.String(), ...LatencySummary.properties }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** snapshot-cache's layer store (taidon_layers, taidon_layer_bytes, taidon_layer_budget_bytes, evictions). */
export const OperatorLayers = Type.Object(
  {
    startedAt: StartedAt,
    count: Count,
    bytes: Count,
    budgetBytes: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    evictions: Count,
    clonesFromSpares: Count,
  },
  { additionalProperties: false },
);

/** Refusals the gateway answered (taidon_http_requests_total of the gateway itself). */
export const OperatorAuth = Type.Object(
  {
    startedAt: StartedAt,
    unauthorized: Type.Number({ minimum: 0, description: '401 answers: no token, a bad one, a wrong password.' }),
    forbidden: Type.Number({ minimum: 0, description: '403 answers: a role that may not use the route.' }),
    signInThrottled: Type.Number({ minimum: 0, description: '429 answers of `/api/auth/*` routes.' }),
  },
  { additionalProperties: false },
);

/** vcs-sync's git figures (taidon_git_operations_total, taidon_git_remote_operations_total). */
export const OperatorGit = Type.Object(
  {
    startedAt: StartedAt,
    commandErrors: Type.Number({ minimum: 0, description: 'git commands that failed or timed out.' }),
    remoteErrors: Type.Number({ minimum: 0, description: 'Pulls, pushes and imports that answered an error code.' }),
    remote: Type.Array(
      Type.Object({ operation: Type.String(), outcome: Type.String(), count: Count }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

const Section = <T extends TSchema>(figures: T) => Type.Union([figures, Type.Null()]);

/**
 * `GET /api/admin/overview`: the key figures of the Grafana dashboards, read
 * from the services' own `/metrics`. A section is null when its service is not
 * configured behind this gateway or did not answer (`unavailable` says which
 * and why); counters count since that service's process started.
 */
export const OperatorOverview = Type.Object(
  {
    generatedAt: Type.String({ format: 'date-time' }),
    runs: Section(OperatorRuns),
    cache: Section(OperatorCache),
    instances: Section(OperatorInstances),
    layers: Section(OperatorLayers),
    auth: Section(OperatorAuth),
    git: Section(OperatorGit),
    unavailable: Type.Array(
      Type.Object({ service: Type.String(), reason: Type.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type OperatorOverview = Static<typeof OperatorOverview>;
export type OperatorRuns = Static<typeof OperatorRuns>;
export type OperatorCache = Static<typeof OperatorCache>;
export type OperatorInstances = Static<typeof OperatorInstances>;
export type OperatorLayers = Static<typeof OperatorLayers>;
export type OperatorAuth = Static<typeof OperatorAuth>;
export type OperatorGit = Static<typeof OperatorGit>;
