import { DomainError, detached } from '@taidon/kit';
import type pg from 'pg';
import { memAvailableBytes } from '../runtimes/proc.js';
import { countPooled, retirePooledInstances } from '../store/instances.js';
import { listPoolDemand, type PoolDemand, setPoolDemand } from '../store/warm-pool.js';
import { type InstanceManager, TEMPLATE_POOL_KEY } from './instances.js';

/** How old a read of the demand may be when a pass asks before a start (a change through another replica). */
const DEMAND_FRESH_MS = 1000;

/** Demand and supply of one pool key. */
export interface PoolStatus {
  key: string;
  size: number;
  /** Pooled instances starting or ready now. */
  instances: number;
}

/**
 * Where a pool's instances come from and go: the local runtime's records and servers (localPoolSupply), or a
 * cluster's TaidonInstances (ClusterInstanceManager). The pool's demand, bounds and turns are the same for both.
 */
export interface PoolSupply {
  /** Pooled instances starting or ready, per pool key. */
  counts(): Promise<Record<string, number>>;
  /** Starts one pooled instance of `key`; resolves once it is ready to be claimed. */
  start(key: string): Promise<void>;
  /**
   * Deletes up to `limit` ready pooled instances of `key` (of any pool when null), oldest first, none that a
   * claim has taken meanwhile; answers how many went.
   */
  retire(key: string | null, limit: number, reason: string): Promise<number>;
  /**
   * Deletes pooled instances that will never be ready (their start was abandoned, e.g. by a replica that died
   * waiting for it), before a filling pass counts; the local runtime's reconcile does this for its records.
   */
  sweep?(): Promise<number>;
}

/** The local runtime's supply: pooled instances are rows of `instances` with their servers (InstanceManager). */
export function localPoolSupply(pool: pg.Pool, manager: InstanceManager): PoolSupply {
  return {
    counts: () => countPooled(pool),
    async start(key) {
      await manager.startNew({
        ownerId: null,
        ownerRole: null,
        sessionId: null,
        layerKey: key === TEMPLATE_POOL_KEY ? null : key,
        pooled: true,
        poolKey: key,
      });
    },
    // They leave the pool in one statement before their servers stop, so a learner's claim meanwhile cannot take
    // one that is about to go (a list read first and deleted one by one did, under load: the learner's state vanished).
    async retire(key, limit, reason) {
      const rows = await retirePooledInstances(pool, key, limit, reason);
      for (const row of rows) await manager.delete(row.id, reason);
      return rows.length;
    },
  };
}

/** What the warm pool needs. */
export interface WarmPoolDeps {
  /** The control plane's database: the demand per key (warm_pool_demand), shared by every replica. */
  pool: pg.Pool;
  /** The local runtime's instances; the pool's supply when `supply` is not given. */
  manager?: InstanceManager;
  /** Where pooled instances come from (default: localPoolSupply of `manager`). */
  supply?: PoolSupply;
  /**
   * Whether this replica starts and retires pooled instances now (default always): on a cluster, only the one
   * holding the reconciler's Lease does; the others store demand and count, and leave the supply alone. Asked
   * before each start and each retire, not once per pass: a pass can take longer than a Lease, and a replica
   * demoted meanwhile must leave the rest to the new leader.
   */
  mayFill?: () => boolean;
  maxInstances: number;
  minAvailableBytes: number;
  /**
   * Pooled instances a pass starts at once (default 1). Instance creation is bounded by the manager's own
   * limit too; keeping this below it leaves room for learners' creations queued meanwhile.
   */
  fillConcurrency?: number;
  /** Reads MemAvailable; tests replace it to simulate pressure; answering undefined turns the check off. */
  memAvailable?: () => Promise<number | undefined>;
  /** How long after a take its refill starts (default 50 ms; see kickSoon). */
  refillDelayMs?: number;
  onError?: (error: unknown, key: string) => void;
}

/** What one fill pass did. */
export interface FillSummary {
  started: number;
  stopped: number;
}

/**
 * Keeps, for each declared key, that many started, untouched instances ready
 * to be taken. Bounded by `maxInstances` overall; when MemAvailable drops
 * under `minAvailableBytes` it adds none and deletes pooled instances, oldest
 * first, one per pass until memory recovers.
 */
export class WarmPool {
  private filling: Promise<FillSummary> | undefined;
  private again = false;
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Keys with a demand or pooled instances, as the last pass or declaration saw them; unknown before. */
  private keys: Set<string> | undefined;
  /** The demand as last read (demandNow). */
  private demand: { at: number; rows: Promise<PoolDemand[]> } | undefined;

  private readonly supply: PoolSupply;

  constructor(private readonly deps: WarmPoolDeps) {
    if (deps.supply) this.supply = deps.supply;
    else if (deps.manager) this.supply = localPoolSupply(deps.pool, deps.manager);
    else throw new Error('WarmPool: a supply or an instance manager is needed');
  }

  /** Declares how many ready instances `key` (a layer key, or `template`) should have; 0 removes it. */
  async setDemand(key: string, size: number): Promise<PoolStatus> {
    const others = (await listPoolDemand(this.deps.pool)).filter((d) => d.key !== key);
    const total = others.reduce((sum, d) => sum + d.size, 0) + size;
    if (total > this.deps.maxInstances) {
      throw new DomainError(
        'ENV_MANAGER_WARM_POOL_FULL',
        `Warm-pool sizes would add up to ${total}, more than the ${this.deps.maxInstances} allowed.`,
        { statusCode: 409, details: { requested: total, max: this.deps.maxInstances } },
      );
    }
    await setPoolDemand(this.deps.pool, key, size);
    this.demand = undefined; // a pass under way sees it before its next start
    if (size > 0) this.keys?.add(key);
    this.kick();
    return { key, size, instances: (await this.supply.counts())[key] ?? 0 };
  }

  /**
   * Whether a claim of `key` may find a pooled instance: false only for a key that neither had a demand nor
   * pooled instances at the last pass, so a clone of a layer nobody pools skips the claim's statement. A
   * demand declared through another replica is seen at this one's next pass (every reconcile interval, and
   * after each take); until then its runs make instances instead of taking pooled ones.
   */
  mayHave(key: string): boolean {
    return this.keys === undefined || this.keys.has(key);
  }

  /** Every declared key with its supply. */
  async status(): Promise<PoolStatus[]> {
    const counts = await this.supply.counts();
    return (await listPoolDemand(this.deps.pool)).map((d) => ({ ...d, instances: counts[d.key] ?? 0 }));
  }

  /** Starts a fill pass in the background (after the current one), e.g. after a take. */
  kick(): void {
    if (this.stopped) return;
    // Often called while serving a take: the pass is the pool's own work, not that request's.
    detached(() => void this.fill().catch(() => {}), 'warm-pool');
  }

  /**
   * Starts a fill pass shortly, once, however many takes ask meanwhile. After a take, the run that took the
   * instance still has its head to execute; a refill started at once (records, a clone, a server start) would
   * compete with it for this process and the machine, and its instance is not ready for ~100 ms anyway.
   */
  kickSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = detached(() =>
      setTimeout(() => {
        this.soon = undefined;
        this.kick();
      }, this.deps.refillDelayMs ?? 50),
    );
    this.soon.unref();
  }

  /** Starts no pass any more (a pending kickSoon is dropped) and resolves when none is running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.soon);
    this.soon = undefined;
    await this.settled();
  }

  /** Resolves when no fill pass is running. */
  async settled(): Promise<void> {
    while (this.filling) await this.filling.catch(() => {});
  }

  /**
   * One pass: shrink under memory pressure, else start what each key lacks. A replica that may not fill (a
   * cluster's follower) only learns the keys (mayHave).
   */
  fill(): Promise<FillSummary> {
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = this.pass().finally(() => {
      this.filling = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
    return this.filling;
  }

  /** Whether this replica may start or retire pooled instances now (see WarmPoolDeps.mayFill). */
  private mayFill(): boolean {
    return this.deps.mayFill?.() ?? true;
  }

  private async pass(): Promise<FillSummary> {
    const summary: FillSummary = { started: 0, stopped: 0 };
    if (!this.mayFill()) {
      const [demand, counts] = await Promise.all([listPoolDemand(this.deps.pool), this.supply.counts()]);
      this.keys = new Set([...demand.filter((d) => d.size > 0).map((d) => d.key), ...Object.keys(counts)]);
      return summary;
    }
    const available = await (this.deps.memAvailable ?? memAvailableBytes)();
    if (available !== undefined && available < this.deps.minAvailableBytes) {
      summary.stopped += await this.retire(null, 1, `warm pool shrunk: MemAvailable ${available} bytes`);
      return summary;
    }
    if (this.supply.sweep) summary.stopped += await this.supply.sweep();
    const demand: PoolDemand[] = await this.demandNow(true);
    const counts = await this.supply.counts();
    this.keys = new Set([...demand.filter((d) => d.size > 0).map((d) => d.key), ...Object.keys(counts)]);
    let total = Object.values(counts).reduce((a, b) => a + b, 0);
    // What each key lacks, taken in turns across keys, so one large pool does not starve the others.
    const lacking = demand.map(({ key, size }) => ({ key, missing: Math.max(0, size - (counts[key] ?? 0)) }));
    const queue: string[] = [];
    for (let round = 0; lacking.some((l) => l.missing > round); round++) {
      for (const l of lacking) if (l.missing > round) queue.push(l.key);
    }
    const failed = new Set<string>();
    // Starts of each key begun by this pass; with the count at its start, what a lowered demand no longer asks for.
    const begun = new Map<string, number>();
    const stillWanted = async (key: string) => {
      // A failed read tells nothing new: the pass goes on with the demand it started from.
      const rows = await this.demandNow().catch(() => demand);
      const size = rows.find((d) => d.key === key)?.size ?? 0;
      return (counts[key] ?? 0) + (begun.get(key) ?? 0) < size;
    };
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        // Demoted during the pass (the starts before took a while): the new leader counts and starts the rest.
        if (!this.mayFill()) return;
        if (failed.has(key) || total >= this.deps.maxInstances) continue;
        // A pass on a busy machine can take minutes: a demand lowered meanwhile (a class arrived, a pool
        // withdrawn) stops its starts here rather than after them, when they would only be deleted again.
        if (!(await stillWanted(key))) continue;
        total++;
        begun.set(key, (begun.get(key) ?? 0) + 1);
        try {
          await this.supply.start(key);
          summary.started += 1;
        } catch (error) {
          total--;
          this.deps.onError?.(error, key);
          failed.add(key); // the next pass retries; a missing layer should not spin here
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.deps.fillConcurrency ?? 1) }, worker));
    // Demand lowered or withdrawn: the surplus goes, oldest first. Counted again after the fill, which may
    // have taken seconds while learners took instances, and only when the first count showed a surplus (a
    // pass runs after every take; the per-key counts are cheap, listing every running instance is not).
    const surplusOf = (have: Record<string, number>, wanted: PoolDemand[]) =>
      Object.entries(have)
        .map(([key, n]) => ({ key, surplus: n - (wanted.find((d) => d.key === key)?.size ?? 0) }))
        .filter((s) => s.surplus > 0);
    if (surplusOf(counts, demand).length > 0) {
      for (const { key, surplus } of surplusOf(await this.supply.counts(), await this.demandNow())) {
        summary.stopped += await this.retire(key, surplus, 'warm pool demand lowered');
      }
    }
    return summary;
  }

  /**
   * The declared demand, read again when asked `fresh`, when this replica changed it, or when the last read is
   * older than DEMAND_FRESH_MS (another replica may have changed it): asked before each start of a pass.
   */
  private demandNow(fresh = false): Promise<PoolDemand[]> {
    if (fresh || !this.demand || performance.now() - this.demand.at > DEMAND_FRESH_MS) {
      const rows = listPoolDemand(this.deps.pool);
      this.demand = { at: performance.now(), rows };
      // A failed read is not kept: the next ask reads again.
      rows.catch(() => {
        if (this.demand?.rows === rows) this.demand = undefined;
      });
    }
    return this.demand.rows;
  }

  /**
   * Deletes up to `limit` ready pooled instances of `key` (of any pool when null), oldest first. Where leadership
   * can change (mayFill given), one at a time, each only while this replica still may: a demoted one retiring
   * what the new leader counted would leave its pool short.
   */
  private async retire(key: string | null, limit: number, reason: string): Promise<number> {
    if (!this.deps.mayFill) return this.supply.retire(key, limit, reason);
    let retired = 0;
    while (retired < limit && this.mayFill()) {
      const gone = await this.supply.retire(key, 1, reason);
      if (gone === 0) break;
      retired += gone;
    }
    return retired;
  }
}
