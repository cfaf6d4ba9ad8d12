import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import type { CowDriver } from '../drivers/driver.js';
import { pathExists } from '../drivers/layout.js';
import { LayerInUseError, LayerNotFoundError, LayerPinnedError, VolumeNotFoundError } from '../errors.js';
import type { SnapshotCacheMetrics } from '../metrics.js';
import {
  deepestLayer,
  deleteLayerRow,
  findLayer,
  insertLayer,
  type Layer,
  layerExists,
  listLayers,
  lockLayerKey,
  setLayerPinned,
  tryLockLayerKey,
} from '../store/layers.js';
import { deleteVolumeRow, insertVolume, listVolumes, lockVolume, type VolumeRecord } from '../store/volumes.js';
import { planEviction, totalBytes } from './eviction.js';

/** What the layer cache works with. */
export interface LayerCacheDeps {
  pool: pg.Pool;
  driver: CowDriver;
  metrics: SnapshotCacheMetrics;
  /** Total bytes of layers to stay under. */
  budgetBytes: number;
  /** Half-life of the recency weight of the eviction score. */
  halfLifeMs: number;
  /** Told about an eviction run that failed after a layer was created (the creation itself succeeded). */
  onEvictionError?: (error: unknown) => void;
  /** How many layers keep a clone made ahead for their next volume (drivers with cheap clones only); 0: none. */
  spareClones?: number;
  /** Told about a clone made ahead that failed (the volume that triggered it was made). */
  onSpareError?: (error: unknown) => void;
}

/**
 * How long after a layer's clone its next spare is made: long enough for the run that took the clone to have
 * its server started and its first connection open (a snapshot meanwhile, on the same filesystem and the same
 * two cores, slowed that connection from ~9 to ~12 ms), short enough for a learner right behind (a class on one
 * exercise) to find the spare. 30 against 100 ms in `bench/runs`, two runs each: clones back to back 62–67
 * against 73–80 ms p50; 60 ms keeps most of that.
 */
const SPARE_DELAY_MS = 60;

/** A volume as the API returns it. */
export interface Volume {
  id: string;
  path: string;
  layerKey: string | null;
}

/** What a new layer needs: its key, where it comes from, and what it saves. */
export interface CreateLayerInput {
  key: string;
  parentKey?: string | null;
  volumeId: string;
  stepCount: number;
  buildMs: number;
  pinned?: boolean;
}

/** Outcome of one eviction run. */
export interface EvictionResult {
  evicted: string[];
  /** Bytes of the layers left. */
  totalBytes: number;
}

const seconds = (startMs: number) => (performance.now() - startMs) / 1000;

/**
 * Layers and volumes: the driver holds the data, the database the records,
 * and a lock per key keeps the two in step. Clones take the key's lock
 * shared, creation and deletion exclusive, so a layer is never deleted under
 * a clone being made and one key is snapshotted once.
 */
export class LayerCache {
  private evictionQueue: Promise<unknown> = Promise.resolve();
  /**
   * Clones made ahead, by layer key, least recently made first: volumes on disk with no record yet. One is
   * added only under its layer's shared lock and dropped under the exclusive one (or when it is handed out),
   * so a layer is never destroyed under its spare; after a restart, reconcile destroys them as orphans.
   */
  private readonly spares = new Map<string, string>();
  /** Layer keys whose spare is waiting to be made or being made. */
  private readonly sparesDue = new Set<string>();
  private readonly spareWork = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: LayerCacheDeps) {}

  /**
   * An empty volume, or a clone of `fromLayerKey` (a hit of that layer). Where clones are cheap, the clone is
   * the layer's spare when it has one (made after its previous clone), and a new spare is made shortly after.
   */
  async createVolume(input: {
    fromLayerKey?: string | null;
    sizeLimitBytes?: number | null;
    id?: string | null;
  }): Promise<Volume> {
    const layerKey = input.fromLayerKey ?? null;
    const sizeLimitBytes = input.sizeLimitBytes ?? null;
    const { driver, pool } = this.deps;
    const named = input.id ?? null;
    if (named !== null) {
      // A caller-named volume that exists is answered as it is: the caller's retry after a lost answer.
      const existing = await lockVolume(pool, named, 'share');
      if (existing) return { id: existing.id, path: driver.volumePath(existing.id), layerKey: existing.layerKey };
    }
    if (layerKey === null) {
      const id = named ?? randomUUID();
      const path = await driver.createVolume(id);
      await this.undoOnFailure(id, async () => {
        if (sizeLimitBytes !== null) await driver.limitVolume?.(id, sizeLimitBytes);
        await insertVolume(pool, { id, layerKey, sizeLimitBytes });
      });
      return { id, path, layerKey };
    }
    const volume = await withTransaction(pool, async (client) => {
      await lockLayerKey(client, layerKey, 'shared');
      if (!(await layerExists(client, layerKey))) throw new LayerNotFoundError(layerKey);
      // A spare has an id of its own: a caller-named volume is always a clone made now.
      const spare = named === null ? this.spares.get(layerKey) : undefined;
      if (spare) this.spares.delete(layerKey);
      const id = named ?? spare ?? randomUUID();
      let path: string;
      if (spare) {
        path = driver.volumePath(spare);
        this.deps.metrics.clonesFromSpares.inc();
      } else {
        const start = performance.now();
        path = await driver.cloneLayer(layerKey, id);
        this.deps.metrics.cloneSeconds.observe(seconds(start));
      }
      await this.undoOnFailure(id, async () => {
        if (sizeLimitBytes !== null) await driver.limitVolume?.(id, sizeLimitBytes);
        await insertVolume(client, { id, layerKey, sizeLimitBytes });
      });
      return { id, path, layerKey };
    });
    this.spareSoon(layerKey);
    return volume;
  }

  /** Layers with a spare clone ready, and the spare's volume id (for tests and the log). */
  spareVolumes(): ReadonlyMap<string, string> {
    return this.spares;
  }

  /** Makes no more spares and destroys those made; waits for one being made. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.spareWork]);
    const ids = [...this.spares.values()];
    this.spares.clear();
    for (const id of ids) await this.deps.driver.destroyVolume(id).catch(() => {});
  }

  private spareSoon(layerKey: string): void {
    const limit = this.deps.spareClones ?? 0;
    if (limit <= 0 || !this.deps.driver.cheapClones || this.closed) return;
    if (this.spares.has(layerKey) || this.sparesDue.has(layerKey)) return;
    this.sparesDue.add(layerKey);
    const timer = setTimeout(() => {
      // Closed meanwhile: the pool may be gone too.
      if (this.closed) return;
      const work = this.makeSpare(layerKey, limit)
        .catch((error: unknown) => this.deps.onSpareError?.(error))
        .finally(() => {
          this.sparesDue.delete(layerKey);
          this.spareWork.delete(work);
        });
      this.spareWork.add(work);
    }, SPARE_DELAY_MS);
    timer.unref();
  }

  private async makeSpare(layerKey: string, limit: number): Promise<void> {
    const { driver, pool } = this.deps;
    const dropped: string[] = [];
    await withTransaction(pool, async (client) => {
      await lockLayerKey(client, layerKey, 'shared');
      if (this.closed || !(await layerExists(client, layerKey))) return;
      const id = randomUUID();
      const start = performance.now();
      await this.undoOnFailure(id, async () => {
        await driver.cloneLayer(layerKey, id);
      });
      this.deps.metrics.cloneSeconds.observe(seconds(start));
      if (this.closed) {
        await driver.destroyVolume(id);
        return;
      }
      this.spares.set(layerKey, id);
      // Past the limit, the layer whose spare was made longest ago loses it (out of the map at once).
      for (const [key, old] of this.spares) {
        if (this.spares.size <= limit) break;
        this.spares.delete(key);
        dropped.push(old);
      }
    });
    for (const id of dropped) await driver.destroyVolume(id);
  }

  /** Destroys the layer's spare, if it has one; called under the layer's exclusive lock. */
  private async dropSpare(layerKey: string): Promise<void> {
    const id = this.spares.get(layerKey);
    if (id === undefined) return;
    this.spares.delete(layerKey);
    await this.deps.driver.destroyVolume(id);
  }

  private async undoOnFailure(volumeId: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      await this.deps.driver.destroyVolume(volumeId).catch(() => {});
      throw error;
    }
  }

  /** Destroys the volume and forgets it; an unknown id is not an error (so callers may retry). */
  async destroyVolume(id: string): Promise<void> {
    await withTransaction(this.deps.pool, async (client) => {
      await lockVolume(client, id, 'update');
      await deleteVolumeRow(client, id);
      await this.deps.driver.destroyVolume(id);
    });
  }

  /**
   * Snapshots the volume into a layer under `key`, records it with its size,
   * then evicts to stay within the budget. An existing key answers the
   * existing layer (`created: false`) without a new snapshot.
   */
  async createLayer(input: CreateLayerInput): Promise<{ layer: Layer; created: boolean }> {
    const existing = await findLayer(this.deps.pool, input.key);
    if (existing) return { layer: existing, created: false };
    const outcome = await withTransaction(this.deps.pool, async (client) => {
      await lockLayerKey(client, input.key, 'exclusive');
      const made = await findLayer(client, input.key);
      if (made) return { layer: made, created: false };
      if (!(await lockVolume(client, input.volumeId, 'share'))) throw new VolumeNotFoundError(input.volumeId);
      return { layer: await this.snapshot(client, input), created: true };
    });
    if (outcome.created) {
      await this.evict(new Set([input.key])).catch((error: unknown) => this.deps.onEvictionError?.(error));
    }
    return outcome;
  }

  private async snapshot(client: pg.PoolClient, input: CreateLayerInput): Promise<Layer> {
    const { driver, metrics } = this.deps;
    // A layer on disk without a record is what a crash between snapshot and commit leaves.
    if (await pathExists(driver.layerPath(input.key))) await driver.destroyLayer(input.key);
    const start = performance.now();
    await driver.snapshotVolume(input.volumeId, input.key);
    metrics.snapshotSeconds.observe(seconds(start));
    try {
      const layer = await insertLayer(client, {
        key: input.key,
        parentKey: input.parentKey ?? null,
        stepCount: input.stepCount,
        buildMs: input.buildMs,
        sizeBytes: await driver.sizeBytes('layer', input.key),
        pinned: input.pinned ?? false,
      });
      if (!layer) throw new Error(`layer ${input.key} was recorded by someone not holding its lock`);
      return layer;
    } catch (error) {
      await driver.destroyLayer(input.key).catch(() => {});
      throw error;
    }
  }

  /** The layer under `key`, with its live clones. */
  async getLayer(key: string): Promise<Layer> {
    const layer = await findLayer(this.deps.pool, key);
    if (!layer) throw new LayerNotFoundError(key);
    return layer;
  }

  /** Recorded volumes made at least `olderThanSeconds` ago, oldest first, at most `limit` (spares are not volumes yet). */
  listVolumes(olderThanSeconds: number, limit: number): Promise<VolumeRecord[]> {
    return listVolumes(this.deps.pool, olderThanSeconds, limit);
  }

  /** Every layer, oldest first. */
  listLayers(): Promise<Layer[]> {
    return listLayers(this.deps.pool);
  }

  /** Of a chain's key path, the deepest key that has a layer (index -1 when none) and every index that has one. */
  lookup(keys: readonly string[]): Promise<{ key: string | null; index: number; cached: number[] }> {
    return deepestLayer(this.deps.pool, keys);
  }

  /** Pins (never evicted) or unpins the layer. */
  async setPinned(key: string, pinned: boolean): Promise<Layer> {
    if (!(await setLayerPinned(this.deps.pool, key, pinned))) throw new LayerNotFoundError(key);
    return this.getLayer(key);
  }

  /** Deletes a layer on request; refused while it is pinned or has live clones. */
  async deleteLayer(key: string): Promise<void> {
    await withTransaction(this.deps.pool, async (client) => {
      await lockLayerKey(client, key, 'exclusive');
      const layer = await findLayer(client, key);
      if (!layer) throw new LayerNotFoundError(key);
      if (layer.pinned) throw new LayerPinnedError(key);
      if (layer.liveClones > 0) throw new LayerInUseError(key, layer.liveClones);
      await deleteLayerRow(client, key);
      await this.dropSpare(key);
      await this.deps.driver.destroyLayer(key);
    });
  }

  /** Evicts the least valuable layers until the total is within the budget; runs one at a time. */
  evict(protectedKeys: ReadonlySet<string> = new Set()): Promise<EvictionResult> {
    const run = this.evictionQueue.then(() => this.evictNow(protectedKeys));
    this.evictionQueue = run.catch(() => {});
    return run;
  }

  private async evictNow(protectedKeys: ReadonlySet<string>): Promise<EvictionResult> {
    const evicted: string[] = [];
    const attempted = new Set(protectedKeys);
    for (;;) {
      const layers = await listLayers(this.deps.pool);
      const plan = planEviction(layers, {
        budgetBytes: this.deps.budgetBytes,
        halfLifeMs: this.deps.halfLifeMs,
        nowMs: Date.now(),
        protectedKeys: attempted,
      });
      if (plan.length === 0) return { evicted, totalBytes: totalBytes(layers) };
      for (const key of plan) {
        attempted.add(key);
        if (await this.evictOne(key)) {
          evicted.push(key);
          this.deps.metrics.evictions.inc();
        }
      }
    }
  }

  /** Deletes one planned layer unless, under its lock, it turns out busy, pinned or in use. */
  private evictOne(key: string): Promise<boolean> {
    return withTransaction(this.deps.pool, async (client) => {
      if (!(await tryLockLayerKey(client, key))) return false;
      const layer = await findLayer(client, key);
      if (!layer || layer.pinned || layer.liveClones > 0) return false;
      await deleteLayerRow(client, key);
      await this.dropSpare(key);
      await this.deps.driver.destroyLayer(key);
      return true;
    });
  }
}
