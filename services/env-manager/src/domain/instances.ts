import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Layer, SnapshotCacheClient } from '../clients/snapshot-cache.js';
import { checkpointForLayer } from '../engine/checkpoint.js';
import {
  initTemplate,
  SANDBOX_ADMIN_USER,
  SANDBOX_DATABASE,
  SANDBOX_USER,
  type TemplateSettings,
} from '../engine/template.js';
import { keepTemplateDatabase, resetFromTemplate, SandboxDroppedError } from '../engine/template-database.js';
import {
  InstanceNotFoundError,
  InvalidStateError,
  ShuttingDownError,
  SnapshotFailedError,
  StartFailedError,
  TemplateUnavailableError,
} from '../errors.js';
import type { EnvManagerMetrics } from '../metrics.js';
import type { Runtime, StartedServer } from '../runtimes/runtime.js';
import { Semaphore } from '../runtimes/throttle.js';
import {
  claimPooledInstance,
  claimPooledInstancesById,
  getInstance,
  type InstanceRow,
  insertInstance,
  listInstances,
  listPooledInstances,
  listTransitions,
  markInstancesUsed,
  type NewInstance,
  type TransitionRow,
  transitionInstance,
  updateInstance,
} from '../store/instances.js';
import { KeyedLock } from './keyed-lock.js';
import type { InstanceState } from './states.js';

/** Warm-pool key of instances made from the template (layerKey null); layer keys are 64 hex digits. */
export const TEMPLATE_POOL_KEY = 'template';

/** How an instance was obtained. */
export type InstanceSource = 'pool' | 'clone' | 'template' | 'resume';

/** What a client needs to use an instance: where it listens, as whom, and how fast it came. */
export interface ConnectionInfo {
  id: string;
  state: InstanceState;
  host: string;
  port: number;
  database: string;
  user: string;
  admin: { user: string; password: string };
  layerKey: string | null;
  currentKey: string | null;
  source: InstanceSource;
  /** Milliseconds from the request to a connectable server. */
  readyMs: number;
}

/** An instance as GET answers it: the record, without credentials, with its transitions. */
export interface InstanceView {
  id: string;
  ownerId: string | null;
  sessionId: string | null;
  state: InstanceState;
  host: string | null;
  port: number | null;
  database: string;
  user: string;
  layerKey: string | null;
  currentKey: string | null;
  pooled: boolean;
  createdAt: string;
  lastUsedAt: string;
  suspendedAt: string | null;
  transitions?: Array<{ from: InstanceState | null; to: InstanceState; reason: string; at: string }>;
}

/** What the instance manager needs. */
export interface InstanceManagerDeps {
  pool: pg.Pool;
  runtime: Runtime;
  snapshotCache: SnapshotCacheClient;
  metrics: EnvManagerMetrics;
  settings: TemplateSettings;
  adminPassword: string;
  startTimeoutMs: number;
  /** Bytes a clone may write beyond its layer (0: no cap); applied by the storage driver where it can. */
  diskMaxBytes?: number;
  /** Bounds how many instances are created (volume + start) at once; the rest queue. */
  creations?: Semaphore;
  /** Called after a pooled instance was taken, so the pool refills in the background. */
  onPoolTake?: (poolKey: string) => void;
  /** Whether a pooled instance of the key may exist (the warm pool's knowledge); a claim is skipped when not. */
  mayHavePooled?: (poolKey: string) => boolean;
}

/** What create takes. */
export interface CreateInstanceInput {
  ownerId: string;
  ownerRole?: string | null;
  sessionId?: string | null;
  /** Layer to start from; null for a fresh template. */
  layerKey: string | null;
  /** A pooled instance the caller already holds a connection to; taken if it is still in the pool. */
  preferInstanceId?: string | null;
}

const LIVE_STATES: readonly InstanceState[] = ['Running', 'Suspended'];

function view(row: InstanceRow, transitions?: TransitionRow[]): InstanceView {
  return {
    id: row.id,
    ownerId: row.ownerId,
    sessionId: row.sessionId,
    state: row.state,
    host: row.port === null ? null : '127.0.0.1',
    port: row.port,
    database: SANDBOX_DATABASE,
    user: SANDBOX_USER,
    layerKey: row.layerKey,
    currentKey: row.currentKey,
    pooled: row.pooled,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt.toISOString(),
    suspendedAt: row.suspendedAt?.toISOString() ?? null,
    ...(transitions ? { transitions: transitions.map((t) => ({ ...t, at: t.at.toISOString() })) } : {}),
  };
}

function describe(error: unknown): string {
  if (error instanceof StartFailedError) return `start failed: ${error.reason}`;
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}

/**
 * Instances and their state machine: create (from the pool, a layer clone or
 * the template), snapshot, suspend, resume, delete. Operations on one
 * instance are serialized in this process; every state change is a
 * conditional update recorded with its reason, so concurrent replicas cannot
 * both win a transition.
 */
export class InstanceManager {
  /** Instances with an operation in flight; reconcile leaves them alone. */
  readonly busy = new KeyedLock();
  private driverInfo: Promise<{ atomicSnapshot: boolean; rootDir: string }> | undefined;
  private closing = false;

  constructor(private readonly deps: InstanceManagerDeps) {}

  /**
   * Starts no server from now on (ShuttingDownError), so that once the operations in flight have settled
   * (`busy.idle()`), a sweep of the Running instances finds every server this process will ever have started.
   */
  close(): void {
    this.closing = true;
  }

  /** snapshot-cache's driver, asked once. */
  driver(): Promise<{ atomicSnapshot: boolean; rootDir: string }> {
    this.driverInfo ??= this.deps.snapshotCache.driver().catch((error) => {
      this.driverInfo = undefined;
      throw error;
    });
    return this.driverInfo;
  }

  async get(id: string): Promise<InstanceView> {
    const row = await this.row(id);
    return view(row, await listTransitions(this.deps.pool, id));
  }

  /** Instances of an owner, oldest first, Deleted ones left out. */
  async list(ownerId: string): Promise<InstanceView[]> {
    const states = ['Pending', 'Creating', 'Running', 'Suspended', 'Deleting', 'Failed'] as const;
    return (await listInstances(this.deps.pool, { ownerId, states })).map((row) => view(row));
  }

  /**
   * Ready pooled instances of every pool (the `perKey` oldest of each, when given), without credentials:
   * callers may connect to them ahead of a claim.
   */
  async pooled(perKey?: number): Promise<(InstanceView & { poolKey: string | null })[]> {
    return (await listPooledInstances(this.deps.pool, null, perKey ?? null)).map((row) => ({
      ...view(row),
      poolKey: row.poolKey,
    }));
  }

  /** Rows, for the loops. */
  async row(id: string): Promise<InstanceRow> {
    const row = await getInstance(this.deps.pool, id);
    if (!row) throw new InstanceNotFoundError(id);
    return row;
  }

  toView(row: InstanceRow): InstanceView {
    return view(row);
  }

  /**
   * A connectable instance for an owner: a pooled one when the pool has the key, else a new one. `signal`
   * means the caller gave up: a creation still queued for a slot is withdrawn (its record ends Failed).
   */
  async create(input: CreateInstanceInput, signal?: AbortSignal): Promise<ConnectionInfo> {
    const started = performance.now();
    const poolKey = input.layerKey ?? TEMPLATE_POOL_KEY;
    const owner = { ownerId: input.ownerId, ownerRole: input.ownerRole ?? null, sessionId: input.sessionId ?? null };
    const claim = Boolean(input.preferInstanceId) || (this.deps.mayHavePooled?.(poolKey) ?? true);
    while (claim) {
      const taken = await claimPooledInstance(this.deps.pool, poolKey, owner, input.preferInstanceId ?? null);
      if (!taken) break;
      this.deps.onPoolTake?.(poolKey);
      if (taken.pid !== null && this.deps.runtime.isAlive(taken.pid)) {
        return this.connection(taken, 'pool', started);
      }
      // The pooled server died unnoticed: record it and take the next one.
      await this.fail(taken, ['Running'], 'pooled server was not running when taken');
    }
    const row = await this.startNew({ ...owner, layerKey: input.layerKey, pooled: false, poolKey: null }, signal);
    return this.connection(row, input.layerKey === null ? 'template' : 'clone', started);
  }

  /**
   * Several creates at once (`POST /instances/batch`, a grader's clones of one attempt's states, ADR 0056): the
   * pooled instances they name in `preferInstanceId` are claimed in one statement where each `create` would make
   * a statement of its own; an input whose named instance was not claimed (taken meanwhile, or of another key)
   * or that names none is created as `create` creates it. Settled one by one: an input's failure is its own.
   */
  async createMany(
    inputs: readonly CreateInstanceInput[],
    signal?: AbortSignal,
  ): Promise<PromiseSettledResult<ConnectionInfo>[]> {
    const started = performance.now();
    // Instance id → the first input naming it: two inputs never get one instance.
    const naming = new Map<string, number>();
    inputs.forEach((input, i) => {
      if (input.preferInstanceId && !naming.has(input.preferInstanceId)) naming.set(input.preferInstanceId, i);
    });
    const claimed = new Map<number, InstanceRow>();
    if (naming.size > 0) {
      const wanted = [...naming].map(([id, i]) => {
        const input = inputs[i] as CreateInstanceInput;
        return {
          id,
          poolKey: input.layerKey ?? TEMPLATE_POOL_KEY,
          owner: { ownerId: input.ownerId, ownerRole: input.ownerRole ?? null, sessionId: input.sessionId ?? null },
        };
      });
      for (const row of await claimPooledInstancesById(this.deps.pool, wanted))
        claimed.set(naming.get(row.id) as number, row);
    }
    return Promise.allSettled(
      inputs.map(async (input, i) => {
        const taken = claimed.get(i);
        if (taken) {
          this.deps.onPoolTake?.(input.layerKey ?? TEMPLATE_POOL_KEY);
          if (taken.pid !== null && this.deps.runtime.isAlive(taken.pid))
            return this.connection(taken, 'pool', started);
          // The pooled server died unnoticed: record it, and the input is created as a create would.
          await this.fail(taken, ['Running'], 'pooled server was not running when taken');
        }
        return this.create(input, signal);
      }),
    );
  }

  /**
   * Starts a new instance: a record, a volume (empty or cloned), a server
   * (template init or plain start); Failed with the reason if any step fails.
   */
  async startNew(input: NewInstance, signal?: AbortSignal): Promise<InstanceRow> {
    if (this.closing) throw new ShuttingDownError();
    const id = randomUUID();
    const { pool, runtime, snapshotCache } = this.deps;
    return this.busy.run(id, async () => {
      // The record is written while the volume is made: a new instance's first milliseconds are all on a
      // learner's first run. Awaited before the volume goes on it, and before anything marks it Failed.
      const inserted = insertInstance(pool, {
        id,
        ...input,
        reason: input.pooled ? 'warm pool refill' : 'requested',
        creatingReason: input.layerKey ? 'cloning layer' : 'new template',
      });
      inserted.catch(() => {});
      let server: StartedServer | undefined;
      let recorded: Promise<InstanceRow | undefined> | undefined;
      const slot = this.deps.creations ?? new Semaphore(Number.MAX_SAFE_INTEGER);
      try {
        return await slot.run(
          async () => {
            const cap = this.deps.diskMaxBytes ? { sizeLimitBytes: this.deps.diskMaxBytes } : {};
            // The server's own directory is made while the volume is cloned.
            const prepared = runtime.prepare(id);
            prepared.catch(() => {});
            const volume = await snapshotCache.createVolume(
              input.layerKey ? { fromLayerKey: input.layerKey, ...cap } : cap,
            );
            try {
              await inserted;
            } catch (error) {
              // No record to put the volume on: nothing would ever delete it.
              await snapshotCache.deleteVolume(volume.id).catch(() => {});
              throw error;
            }
            // Recorded while the server starts; awaited before the instance is Running, so a volume is never untracked.
            recorded = updateInstance(pool, id, ['Creating'], { volumeId: volume.id, volumePath: volume.path });
            recorded.catch(() => {});
            await prepared;
            server =
              input.layerKey === null
                ? await initTemplate(runtime, {
                    instanceId: id,
                    dataDir: volume.path,
                    adminPassword: this.deps.adminPassword,
                    settings: this.deps.settings,
                    startTimeoutMs: this.deps.startTimeoutMs,
                  })
                : await runtime.start({
                    instanceId: id,
                    dataDir: volume.path,
                    timeoutMs: this.deps.startTimeoutMs,
                    // A layer is taken after a CHECKPOINT of an idle server (or of a stopped one): its relation
                    // cache init files match its catalogs.
                    relcache: 'keep',
                    // A layer of a running (frozen) server carries that server's lock file.
                    copiedLockFile: true,
                  });
            if (input.layerKey !== null) await this.keepTemplate(server.port, input.layerKey);
            if (!(await recorded)) throw new Error('instance left Creating while it was being created');
            const row = await transitionInstance(pool, id, ['Creating'], 'Running', 'server ready', {
              pid: server.pid,
              port: server.port,
            });
            if (!row) throw new Error('instance left Creating while it was being created');
            return row;
          },
          input.pooled ? 'background' : 'request',
          signal,
        );
      } catch (error) {
        if (error instanceof StartFailedError) this.deps.metrics.startFailures.inc();
        if (server) await runtime.kill(id, server.pid).catch(() => {});
        // The volume is on the record before it turns Failed, so deleting the Failed instance deletes the volume.
        await inserted.catch(() => {});
        await recorded?.catch(() => {});
        const row = await getInstance(pool, id);
        if (row) await this.fail(row, ['Pending', 'Creating'], describe(error));
        throw error;
      }
    });
  }

  /** Takes a layer of the instance's data; the server is frozen (atomic drivers) or stopped meanwhile. */
  async snapshot(
    id: string,
    input: { key: string; parentKey?: string | null; stepCount: number; buildMs: number; pinned?: boolean },
  ): Promise<{ layer: Layer; snapshotMs: number; instance: InstanceView }> {
    return this.busy.run(id, async () => {
      const row = await this.row(id);
      if (row.state !== 'Running' || row.pid === null || row.volumeId === null) {
        throw new InvalidStateError(id, row.state, 'take a layer');
      }
      const started = performance.now();
      const request = { ...input, volumeId: row.volumeId };
      const { runtime, snapshotCache } = this.deps;
      const pid = row.pid;
      let layer: Layer | undefined;
      let failure: unknown;
      let current = row;
      if ((await this.driver()).atomicSnapshot) {
        // Nothing left for a timed checkpoint to write while frozen; a server that cannot checkpoint (within
        // LAYER_CHECKPOINT_TIMEOUT_MS) gets no layer, as on a cluster (ADR 0049).
        await this.admin(row, checkpointForLayer).catch((error) => {
          throw new SnapshotFailedError(error);
        });
        await runtime.freeze(id, pid);
        try {
          layer = await snapshotCache.createLayer(request);
        } catch (error) {
          failure = error;
        } finally {
          await runtime.thaw(id, pid);
        }
      } else {
        await runtime.stop(id, pid);
        try {
          layer = await snapshotCache.createLayer(request);
        } catch (error) {
          failure = error;
        }
        current = await this.restart(row, 'restarted after a stopped snapshot');
      }
      if (layer === undefined) throw new SnapshotFailedError(failure);
      return { layer, snapshotMs: performance.now() - started, instance: view(current) };
    });
  }

  /** Records the state key the runner says the instance is at. */
  async setKey(id: string, currentKey: string): Promise<InstanceView> {
    const row = await updateInstance(this.deps.pool, id, LIVE_STATES, { currentKey, lastUsedAt: new Date() });
    if (!row) throw await this.notLive(id, 'set its key');
    return view(row);
  }

  /** Marks the instance used now (pushes back its idle TTL). */
  async touch(id: string): Promise<InstanceView> {
    const row = await updateInstance(this.deps.pool, id, LIVE_STATES, { lastUsedAt: new Date() });
    if (!row) throw await this.notLive(id, 'touch it');
    return view(row);
  }

  /**
   * Marks many instances used now, each with the key the runner says it is at where it gives one: what
   * `setKey` and `touch` do for one, in one statement. An id given twice counts once, with its last key.
   * Instances no longer Running or Suspended are left alone and listed apart.
   */
  async markUsed(
    uses: readonly { id: string; currentKey?: string | null }[],
  ): Promise<{ updated: string[]; notLive: string[] }> {
    const byId = new Map<string, string | null>();
    for (const use of uses) byId.set(use.id, use.currentKey ?? byId.get(use.id) ?? null);
    const batch = [...byId].map(([id, currentKey]) => ({ id, currentKey }));
    const updated = batch.length === 0 ? [] : await markInstancesUsed(this.deps.pool, batch, LIVE_STATES, new Date());
    const done = new Set(updated);
    return { updated, notLive: batch.map((u) => u.id).filter((id) => !done.has(id)) };
  }

  /**
   * Brings the sandbox database back to `key` from the instance's template database (ADR 0029): the same
   * server and port, every connection to the sandbox ended. Refused (TemplateUnavailableError, nothing
   * changed) when the instance keeps no template at that key; the caller then starts the state another way.
   * An instance whose sandbox could not be made again after it was dropped is Failed; any earlier failure
   * (the label, ending the connections) leaves it Running as it was.
   */
  async resetToTemplate(id: string, key: string): Promise<ConnectionInfo> {
    const started = performance.now();
    return this.busy.run(id, async () => {
      const row = await this.row(id);
      if (row.state !== 'Running' || row.pid === null || !this.deps.runtime.isAlive(row.pid)) {
        throw new InvalidStateError(id, row.state, 'reset from its template');
      }
      let refusal: string | null;
      try {
        refusal = await this.admin(row, (client) => resetFromTemplate(client, key));
      } catch (error) {
        // Only a sandbox that may be gone fails the instance; before the drop it serves as it was.
        if (error instanceof SandboxDroppedError) {
          await this.fail(row, ['Running'], `reset from its template failed: ${describe(error)}`);
        }
        throw error;
      }
      if (refusal !== null) throw new TemplateUnavailableError(id, refusal);
      const next = await updateInstance(this.deps.pool, id, ['Running'], { currentKey: key, lastUsedAt: new Date() });
      if (!next) throw await this.notLive(id, 'reset from its template');
      this.deps.metrics.templateResets.inc();
      return this.connection(next, 'resume', started);
    });
  }

  /**
   * A new instance from a layer keeps that layer's state as its template database before anyone connects,
   * where clones are cheap (ADR 0029); on the copy driver it would double the instance's bytes.
   */
  private async keepTemplate(port: number, layerKey: string): Promise<void> {
    if (!(await this.driver()).atomicSnapshot) return;
    // The instance serves without it (a reset then starts a new instance, as before): never a reason to fail.
    await this.adminOn(port, (client) => keepTemplateDatabase(client, layerKey)).catch(() => false);
  }

  /** Stops the server and keeps the volume: no memory used until resume. */
  async suspend(id: string, reason = 'requested'): Promise<InstanceView> {
    return this.busy.run(id, async () => {
      const row = await this.row(id);
      if (row.state === 'Suspended') return view(row);
      if (row.state !== 'Running' || row.pid === null) throw new InvalidStateError(id, row.state, 'suspend');
      await this.deps.runtime.stop(id, row.pid);
      const next = await transitionInstance(this.deps.pool, id, ['Running'], 'Suspended', reason, {
        pid: null,
        port: null,
        suspendedAt: new Date(),
      });
      return view(next ?? (await this.row(id)));
    });
  }

  /**
   * Starts the server again on the same volume; the learner's data is where they left it. A Running instance
   * whose server is gone (it stopped with its owner, and reconcile has not seen it yet) is settled first.
   */
  async resume(id: string): Promise<ConnectionInfo> {
    const started = performance.now();
    return this.busy.run(id, async () => {
      let row = await this.row(id);
      if (row.state === 'Running' && row.pid !== null && !this.deps.runtime.isAlive(row.pid)) {
        row = await this.settleGone(row, `server process ${row.pid} is gone`);
      }
      if (row.state === 'Running') return this.connection(row, 'resume', started);
      if (row.state !== 'Suspended') throw new InvalidStateError(id, row.state, 'resume');
      const next = await this.restart(row, 'resumed');
      this.deps.metrics.readySeconds.observe({ source: 'resume' }, (performance.now() - started) / 1000);
      return this.connection(next, 'resume', started);
    });
  }

  /** Stops the server, deletes the volume, keeps the record as Deleted. Deleting twice is fine. */
  async delete(id: string, reason = 'requested'): Promise<InstanceView> {
    return this.busy.run(id, () => this.deleteHeld(id, reason));
  }

  /** What delete does, for a caller that holds the instance's lock (`busy`) already. */
  async deleteHeld(id: string, reason: string): Promise<InstanceView> {
    const row = await this.row(id);
    if (row.state === 'Deleted') return view(row);
    if (!['Running', 'Suspended', 'Failed', 'Deleting'].includes(row.state)) {
      throw new InvalidStateError(id, row.state, 'delete');
    }
    if (row.state !== 'Deleting') {
      await transitionInstance(this.deps.pool, id, ['Running', 'Suspended', 'Failed'], 'Deleting', reason);
    }
    if (row.pid !== null) await this.deps.runtime.stop(id, row.pid, 5000);
    if (row.volumeId !== null) await this.deps.snapshotCache.deleteVolume(row.volumeId);
    await this.deps.runtime.forget(id);
    const next = await transitionInstance(this.deps.pool, id, ['Deleting'], 'Deleted', 'volume deleted', {
      pid: null,
      port: null,
    });
    return view(next ?? (await this.row(id)));
  }

  /**
   * Records a Running instance whose server has exited without a stop of ours. A server that stopped cleanly
   * (as it does when its owner exits: ADR 0024) left every committed change on its volume: a learner's instance
   * becomes Suspended and resumes from it; a pooled one, never handed out, is not worth keeping and is deleted.
   * A server that crashed may have crashed on its data: Failed, and the runner rebuilds the state from layers.
   * The caller holds the instance's lock. Answers the row as it is now.
   */
  async settleGone(row: InstanceRow, reason: string): Promise<InstanceRow> {
    const clean = row.volumePath !== null && (await this.deps.runtime.stoppedCleanly(row.volumePath));
    if (clean && row.pooled) {
      await this.deleteHeld(row.id, `${reason}; pooled, stopped cleanly`);
    } else if (clean) {
      const next = await transitionInstance(
        this.deps.pool,
        row.id,
        ['Running'],
        'Suspended',
        `${reason}; stopped cleanly`,
        {
          pid: null,
          port: null,
          suspendedAt: new Date(),
        },
      );
      if (next) return next;
    } else {
      await this.fail(row, ['Running'], reason);
    }
    return this.row(row.id);
  }

  /** Marks an instance Failed (from one of `from`), recording why. */
  async fail(row: InstanceRow, from: readonly InstanceState[], reason: string): Promise<void> {
    await transitionInstance(this.deps.pool, row.id, from, 'Failed', reason, { pid: null, pooled: false });
  }

  private async restart(row: InstanceRow, reason: string): Promise<InstanceRow> {
    if (row.volumePath === null) throw new InvalidStateError(row.id, row.state, 'start without a volume');
    if (this.closing) {
      // Its server is stopped (a stopped snapshot) or was never started (a resume): its data is on the volume.
      await transitionInstance(this.deps.pool, row.id, ['Running'], 'Suspended', 'service closing', {
        pid: null,
        port: null,
        suspendedAt: new Date(),
      });
      throw new ShuttingDownError();
    }
    try {
      const server = await this.deps.runtime.start({
        instanceId: row.id,
        dataDir: row.volumePath,
        timeoutMs: this.deps.startTimeoutMs,
        relcache: 'if-shut-down',
        ...(row.port === null ? {} : { port: row.port }),
      });
      const patch = { pid: server.pid, port: server.port, lastUsedAt: new Date(), suspendedAt: null };
      const next =
        row.state === 'Running'
          ? await updateInstance(this.deps.pool, row.id, ['Running'], patch)
          : await transitionInstance(this.deps.pool, row.id, ['Suspended'], 'Running', reason, patch);
      if (!next) throw new Error(`instance ${row.id} changed state while it was started`);
      return next;
    } catch (error) {
      if (error instanceof StartFailedError) this.deps.metrics.startFailures.inc();
      await this.fail(row, ['Running', 'Suspended'], describe(error));
      throw error;
    }
  }

  private admin<T>(row: InstanceRow, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    return this.adminOn(row.port ?? 0, fn);
  }

  /** A superuser connection to the instance's `postgres` database (never the sandbox's, which may be dropped). */
  private async adminOn<T>(port: number, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: SANDBOX_ADMIN_USER,
      password: this.deps.adminPassword,
      database: 'postgres',
    });
    // A server going away (shutdown, restart) must fail the pending call, never crash the process.
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async notLive(id: string, operation: string): Promise<Error> {
    const row = await this.row(id);
    return new InvalidStateError(id, row.state, operation);
  }

  private connection(row: InstanceRow, source: InstanceSource, started: number): ConnectionInfo {
    const readyMs = performance.now() - started;
    if (source !== 'resume') this.deps.metrics.readySeconds.observe({ source }, readyMs / 1000);
    return {
      id: row.id,
      state: row.state,
      host: '127.0.0.1',
      port: row.port ?? 0,
      database: SANDBOX_DATABASE,
      user: SANDBOX_USER,
      admin: { user: SANDBOX_ADMIN_USER, password: this.deps.adminPassword },
      layerKey: row.layerKey,
      currentKey: row.currentKey,
      source,
      readyMs: Math.round(readyMs * 10) / 10,
    };
  }
}
