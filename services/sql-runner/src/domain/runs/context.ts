import type { RunEvent, StateSource } from '@taidon/contracts';
import type pg from 'pg';
import type { EnvManagerClient } from '../../clients/env-manager.js';
import type { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import type { RunMetrics } from '../../metrics.js';
import type { SessionConnections } from './connections.js';
import type { OutputLimits } from './execute.js';
import type { KeyLocks } from './key-locks.js';
import type { KnownLayers } from './known-layers.js';
import type { PreparedConnections } from './prepared.js';
import type { RunQuota } from './quota.js';

/** Everything a run needs from the service around it. */
export interface RunnerDeps {
  pool: pg.Pool;
  envManager: EnvManagerClient;
  snapshotCache: SnapshotCacheClient;
  connections: SessionConnections;
  locks: KeyLocks;
  limits: OutputLimits;
  /** Wall-clock bound of one statement: the runner cancels it itself, whatever the learner set. */
  statementTimeoutMs: number;
  /** Take a layer during a replay once this much time passed since the last one. */
  layerEveryMs: number;
  /** Size the sandbox database may reach; a statement that grows it further is cancelled (0: no cap). */
  databaseMaxBytes: number;
  /** Run-rate and instance quotas; absent (USER_PROFILE_URL unset) means none are enforced. */
  quota?: RunQuota;
  /** Keys seen cached, so a hot state's run skips the lookup (see known-layers.ts). */
  knownLayers?: KnownLayers;
  /** Learner connections opened ahead to warm-pool instances (see prepared.ts). */
  prepared?: PreparedConnections;
  /** Where runs are counted and timed; set by buildApp on the app's registry. */
  metrics?: RunMetrics;
}

/** Phase timings of a run, in milliseconds. */
export interface PhaseTimings {
  planMs: number;
  restoreMs: number;
  replayMs: number;
  executeMs: number;
  totalMs: number;
}

/** What one run is doing right now, for heartbeats, cancellation and the `done` event. */
export class RunState {
  phase = 'plan';
  source: StateSource = 'session';
  warmPool = false;
  layerKey: string | null = null;
  stepsReplayed = 0;
  cancelled: 'request' | 'client-closed' | 'timeout' | undefined;
  readonly timings: PhaseTimings = { planMs: 0, restoreMs: 0, replayMs: 0, executeMs: 0, totalMs: 0 };
  /** Cancels the statement in flight, if any. */
  cancelInFlight: (() => Promise<void>) | undefined;

  constructor(
    readonly runId: string,
    readonly emit: (event: RunEvent) => void,
    readonly requestId: string,
  ) {}
}

/** A run was cancelled; unwinds to the run's end, which emits `cancelled`. */
export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'RunCancelled';
  }
}
