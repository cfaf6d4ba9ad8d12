import type pg from 'pg';
import type { EnvManagerClient } from '../../clients/env-manager.js';
import type { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import type { RunMetrics } from '../../metrics.js';
import type { SessionConnections } from './connections.js';
import type { Emit, OutputLimits } from './execute.js';
import type { RunPhase } from './failure.js';
import type { InstanceUses } from './instance-uses.js';
import type { RunQuota } from './quota.js';
import type { KeyLocks } from './start-state/key-locks.js';
import type { KnownLayers } from './start-state/known-layers.js';
import type { PreparedConnections } from './start-state/prepared-connections.js';
import type { StartFacts } from './start-state/start-state.js';

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
  /** Keys seen cached, so a hot state's run skips the lookup (see start-state/known-layers.ts). */
  knownLayers?: KnownLayers;
  /** Learner connections opened ahead to warm-pool instances (see start-state/prepared-connections.ts). */
  prepared?: PreparedConnections;
  /** The instances runs used, told to env-manager in batches (see instance-uses.ts). */
  uses: InstanceUses;
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

/** What one run is doing right now, for cancellation, its failures and the `done` event. */
export class RunState {
  /** The phase the run is in: a failure is reported in it. */
  phase: RunPhase = 'plan';
  /** How the run's starting state was obtained (see start-state/), once known; set by the run alone. */
  start: StartFacts | undefined;
  cancelled: 'request' | 'client-closed' | 'timeout' | undefined;
  readonly timings: PhaseTimings = { planMs: 0, restoreMs: 0, replayMs: 0, executeMs: 0, totalMs: 0 };
  /** Cancels the statement in flight, if any. */
  cancelInFlight: (() => Promise<void>) | undefined;
  /** Resolves once the run is cancelled (see cancelRun): a wait for a slow client ends with it. */
  readonly stopped: Promise<void>;
  private stop: () => void = () => {};

  constructor(
    readonly runId: string,
    readonly emit: Emit,
    readonly requestId: string,
  ) {
    this.stopped = new Promise<void>((resolve) => {
      this.stop = resolve;
    });
  }

  /** Marks the run cancelled (the first reason stays) and ends any wait for its client. */
  markCancelled(reason: 'request' | 'client-closed' | 'timeout'): void {
    this.cancelled ??= reason;
    this.stop();
  }

  /**
   * The run's events as a statement emits them: its rows wait for the client (the route's `drained`), but no
   * longer than the run lasts, so a client that stops reading cannot outlast the wall-clock guard.
   */
  statementEmit(): Emit {
    const emit: Emit = (event) => this.emit(event);
    const drained = this.emit.drained;
    if (drained) emit.drained = () => Promise.race([drained(), this.stopped]);
    return emit;
  }
}

/** A run was cancelled; unwinds to the run's end, which emits `cancelled`. */
export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'RunCancelled';
  }
}

/** Cancels the statement in flight and marks the run cancelled. */
export async function cancelRun(state: RunState, reason: 'request' | 'client-closed' | 'timeout'): Promise<void> {
  state.markCancelled(reason);
  await state.cancelInFlight?.().catch(() => {});
}
