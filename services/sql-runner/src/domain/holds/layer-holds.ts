import { DomainError, withTransaction } from '@taidon/kit';
import type pg from 'pg';
import type { EnvManagerClient } from '../../clients/env-manager.js';
import type { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import {
  deleteHold,
  holdsOf,
  markHoldsPinned,
  unpinnedHeldKeys,
  upsertHold,
  warmDemandByKey,
} from '../../store/layer-holds.js';
import { keyHeldByLiveShare, lockShareScope } from '../../store/shares.js';
import { allocateWarm, DEFAULT_LAYER_HOLD_SETTINGS, type LayerHoldSettings } from './allocate-warm.js';

export { allocateWarm, DEFAULT_LAYER_HOLD_SETTINGS, type LayerHoldSettings };

/** What a holder holds: each key, whether its layer is pinned, and the warm instances this runner declared for it. */
export interface HeldKeys {
  holder: string;
  keys: { key: string; pinned: boolean; warm: number }[];
}

/** Keys one sweep pass pins again. */
const SWEEP_BATCH_KEYS = 100;
const MINUTE_MS = 60_000;

/** What layer holds need: the control-plane pool, snapshot-cache (pins) and env-manager (warm pools). */
export interface LayerHoldDeps {
  pool: pg.Pool;
  snapshotCache: Pick<SnapshotCacheClient, 'setPinned'>;
  envManager: Pick<EnvManagerClient, 'warmPool'>;
  onError?: (error: unknown, key: string) => void;
}

/**
 * Layers held by something other than a share link (issue 18: a published
 * exercise's start state and hidden datasets, holder `exercise:<id>`):
 * pinned while held, as share links pin theirs (one flag per layer in
 * snapshot-cache, the holders counted here under the same per-key lock, so a
 * link revoked never unpins a published exercise's layer nor the reverse),
 * and kept warm: env-manager keeps started instances of each held key, which
 * throwaway clones of that key take (ADR 0044). The warm demand is bounded
 * in all and per key; the most used keys are served first.
 */
export class LayerHolds {
  readonly settings: LayerHoldSettings;
  /** Sizes this runner declared to env-manager, per key. */
  private readonly declared = new Map<string, number>();
  /**
   * Held keys with warm demand whose layer is pinned, as of this runner's last balance (or its own holds since):
   * a grader's request on one needs no snapshot-cache lookup, since a pinned layer is never evicted.
   */
  private pinnedWarm = new Set<string>();
  /** Throwaway uses per held key in the last minute (timestamps), for the popular keys' extra instances. */
  private readonly uses = new Map<string, number[]>();
  private usesChanged = false;
  /** A declaration failed (env-manager away, or its bound refused it): the next sweep declares again. */
  private failed = false;
  /** env-manager's runtime keeps no warm pool (kubernetes: 501 ENV_MANAGER_NOT_ON_THIS_RUNTIME): nothing to declare. */
  private noWarmPool = false;
  private timer: NodeJS.Timeout | undefined;
  private balancing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly deps: LayerHoldDeps,
    settings: Partial<LayerHoldSettings> = {},
  ) {
    this.settings = { ...DEFAULT_LAYER_HOLD_SETTINGS, ...settings };
  }

  /**
   * Holds `keys` for `holder` with `warm` instances each asked, replacing what it held: keys no longer named
   * are let go (unpinned unless another holder or a live share link holds them). A key whose layer does not
   * exist is held unpinned, and the sweep pins it once it does.
   */
  async hold(holder: string, keys: string[], warm: number, requestId?: string): Promise<HeldKeys> {
    const wanted = [...new Set(keys)];
    const before = await holdsOf(this.deps.pool, holder);
    const pinned = new Map<string, boolean>();
    for (const key of wanted) {
      pinned.set(
        key,
        await withTransaction(this.deps.pool, async (client) => {
          await lockShareScope(client, 'key', key);
          // The pin first, then the row that says it is held: a failed commit leaves a pinned layer no row
          // holds (kept until an operator unpins it), never a row that believes in a pin that is not there.
          const isPinned = await this.deps.snapshotCache.setPinned(key, true, requestId);
          await upsertHold(client, { holder, key, warm, pinned: isPinned });
          return isPinned;
        }),
      );
    }
    const dropped: string[] = [];
    for (const old of before) {
      if (!pinned.has(old.key) && !(await this.letGo(holder, old.key, requestId))) dropped.push(old.key);
    }
    await this.rebalance(dropped);
    return {
      holder,
      keys: wanted.map((key) => ({ key, pinned: pinned.get(key) ?? false, warm: this.declared.get(key) ?? 0 })),
    };
  }

  /** What `holder` holds now: each key, whether its layer is pinned, and the warm instances declared for it. */
  async status(holder: string): Promise<HeldKeys> {
    const held = await holdsOf(this.deps.pool, holder);
    return { holder, keys: held.map((h) => ({ key: h.key, pinned: h.pinned, warm: this.declared.get(h.key) ?? 0 })) };
  }

  /** Lets go of everything `holder` holds; answers the keys it held. */
  async release(holder: string, requestId?: string): Promise<string[]> {
    const held = await holdsOf(this.deps.pool, holder);
    const dropped: string[] = [];
    for (const { key } of held) if (!(await this.letGo(holder, key, requestId))) dropped.push(key);
    await this.rebalance(dropped);
    return held.map((h) => h.key);
  }

  /** Drops one hold; unpins the layer unless someone still holds it. Answers whether someone does. */
  private letGo(holder: string, key: string, requestId?: string): Promise<boolean> {
    return withTransaction(this.deps.pool, async (client) => {
      await lockShareScope(client, 'key', key);
      await deleteHold(client, holder, key);
      if (await keyHeldByLiveShare(client, key)) return true;
      // A layer gone meanwhile has nothing to unpin (setPinned answers false).
      this.pinnedWarm.delete(key);
      await this.deps.snapshotCache.setPinned(key, false, requestId);
      return false;
    });
  }

  /** A throwaway clone of `key` was used: a held key used often earns more warm instances. */
  noteUse(key: string): void {
    if (!this.declared.has(key)) return;
    const now = Date.now();
    const recent = (this.uses.get(key) ?? []).filter((t) => now - t < MINUTE_MS);
    recent.push(now);
    this.uses.set(key, recent);
    this.usesChanged = true;
  }

  /**
   * Whether `key` is held with warm demand and its layer pinned (as this runner last read the holds): its layer
   * exists until the last holder lets go, so a grader's clone of it skips the lookup (ADR 0044). A key let go on
   * another replica stays here until this runner's next balance (a sweep, 15 s, while graders use it): only a
   * publication no longer current held it, and the exercises service grades the current one's keys.
   */
  heldPinned(key: string): boolean {
    return this.pinnedWarm.has(key) && (this.declared.get(key) ?? 0) > 0;
  }

  /** The warm sizes this runner declared, per key (what a test or the bench reads). */
  warmSizes(): ReadonlyMap<string, number> {
    return this.declared;
  }

  /**
   * Declares to env-manager the warm demand of every held key as `allocateWarm` shares it, lowering first
   * (so the sum never passes env-manager's own bound midway); `dropped` keys, held by nobody now, go to 0.
   * One pass at a time; a refused or failed declaration is reported and tried again by the next pass.
   */
  rebalance(dropped: string[] = []): Promise<void> {
    const pass = this.balancing.then(() => this.balance(dropped));
    this.balancing = pass.catch(() => {});
    return pass;
  }

  private async balance(dropped: string[]): Promise<void> {
    if (this.noWarmPool) return;
    const now = Date.now();
    const held = await warmDemandByKey(this.deps.pool);
    this.pinnedWarm = new Set(held.filter((d) => d.pinned).map((d) => d.key));
    const demand = held.map((d) => ({
      key: d.key,
      warm: d.warm,
      uses: (this.uses.get(d.key) ?? []).filter((t) => now - t < MINUTE_MS).length,
    }));
    const given = allocateWarm(demand, this.settings);
    for (const key of dropped) if (!given.has(key)) given.set(key, 0);
    for (const key of this.declared.keys()) if (!given.has(key)) given.set(key, 0);
    const changes = [...given].filter(([key, size]) => this.declared.get(key) !== size);
    changes.sort((a, b) => a[1] - (this.declared.get(a[0]) ?? 0) - (b[1] - (this.declared.get(b[0]) ?? 0)));
    for (const [key, size] of changes) {
      try {
        await this.deps.envManager.warmPool(key, size);
        if (size > 0) this.declared.set(key, size);
        else {
          this.declared.delete(key);
          this.uses.delete(key);
        }
      } catch (error) {
        if (error instanceof DomainError && error.code === 'ENV_MANAGER_NOT_ON_THIS_RUNTIME') {
          // Said once; asking again every sweep would only log it again (the layers stay pinned all the same).
          this.noWarmPool = true;
          this.deps.onError?.(error, key);
          return;
        }
        this.failed = true;
        this.deps.onError?.(error, key);
      }
    }
  }

  /** One sweep pass: pins held keys whose layer now exists, and follows popularity when uses changed. */
  async sweep(): Promise<{ pinned: number }> {
    let pinned = 0;
    for (const key of await unpinnedHeldKeys(this.deps.pool, SWEEP_BATCH_KEYS)) {
      const done = await withTransaction(this.deps.pool, async (client) => {
        await lockShareScope(client, 'key', key);
        if (!(await this.deps.snapshotCache.setPinned(key, true))) return false;
        await markHoldsPinned(client, key);
        return true;
      });
      if (done) pinned++;
    }
    if (pinned > 0 || this.usesChanged || this.failed) {
      this.usesChanged = false;
      this.failed = false;
      await this.rebalance();
    }
    return { pinned };
  }

  /** Declares the held keys' demand now, then sweeps every `sweepIntervalMs`. */
  start(): void {
    if (this.closed || this.timer) return;
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.sweep()
          .catch((error: unknown) => this.deps.onError?.(error, 'sweep'))
          .finally(() => {
            if (!this.closed) loop();
          });
      }, this.settings.sweepIntervalMs);
      this.timer.unref();
    };
    void this.rebalance()
      .catch((error: unknown) => this.deps.onError?.(error, 'start'))
      .finally(() => loop());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.balancing;
  }
}
