import { EnvManagerApi } from '@taidon/contracts';
import type { InstanceInfo } from '../../clients/env-manager.js';
import { SqlRunnerError } from '../../errors.js';
import { type SessionConnection, SessionConnections } from '../runs/connections.js';
import type { RunnerDeps } from '../runs/context.js';

/** Bounds of throwaway clones on this runner (THROWAWAY_MAX_PER_ACCOUNT, THROWAWAY_MAX). */
export interface ThrowawaySettings {
  /** Clones (and state builds) one account may hold at once: a request that finds none free is refused (429). */
  maxPerAccount: number;
  /** Clones this runner holds at once for everyone: a request that finds none free is refused (503). */
  maxTotal: number;
  /**
   * Milliseconds one use of a clone (a test file, a grader's entry) may run in all, whatever its statements'
   * own limits: well under env-manager's throwaway TTL (600 s), so many slow statements end with their own
   * answer rather than with the instance deleted under them, and a stranger cannot hold a clone for long.
   */
  useMaxMs: number;
  /**
   * Milliseconds a clone's delete waits after its use (its slot already counted as deleting): a grader's other
   * entries of the same attempt still run, and a server stopped beside them takes the machine from them. 0: at once.
   */
  deleteDelayMs?: number;
}

/** Defaults of THROWAWAY_MAX_PER_ACCOUNT, THROWAWAY_MAX and THROWAWAY_USE_MAX_MS. */
export const DEFAULT_THROWAWAY_SETTINGS: ThrowawaySettings = { maxPerAccount: 2, maxTotal: 8, useMaxMs: 120_000 };

/**
 * Defaults of THROWAWAY_GRADER_MAX_PER_ACCOUNT, THROWAWAY_GRADER_MAX and THROWAWAY_GRADER_DELETE_DELAY_MS: a grader's
 * clones of layers held warm, counted apart (ADR 0044). 4 per account grades a 3-hidden exercise's 4 states in one
 * round; a used one is deleted 50 ms later, once the attempt's other entries are mostly done.
 */
export const DEFAULT_GRADER_THROWAWAY_SETTINGS: Pick<
  ThrowawaySettings,
  'maxPerAccount' | 'maxTotal' | 'deleteDelayMs'
> = {
  maxPerAccount: 4,
  maxTotal: 8,
  deleteDelayMs: 50,
};

/** How long a request waits for slots that only a finished request's clone deletes still hold. */
const DRAIN_WAIT_MS = 5_000;

/** Seconds a refused request is told to wait (Retry-After): a clone lives about as long as one test file. */
export const THROWAWAY_RETRY_AFTER_SECONDS = 1;

/** Told of every throwaway instance made, with whether the warm pool served it (layer holds follow popularity). */
export type ThrowawayUseHook = (layerKey: string, pooled: boolean) => void;

/** A throwaway instance: a clone of one layer, with the learner's connection to it; deleted after use. */
export interface ThrowawayClone {
  instance: InstanceInfo;
  connection: SessionConnection;
}

/** Who a throwaway instance is for, as env-manager records it: not the account itself (see ADR 0031). */
export const throwawayOwner = (ownerId: string) => ({
  ownerId: `throwaway:${ownerId}`,
  ownerRole: EnvManagerApi.THROWAWAY_OWNER_ROLE,
});

/**
 * Slots of one request, reserved up front: the request runs its clones
 * through them, at most `slots` at a time, and gives them back at the end.
 * A request waits only for its own slots, never for another account's.
 */
export class ThrowawayReservation {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];
  /** Waiting for every slot to be free again (the release of a request whose work still runs). */
  private readonly idle: (() => void)[] = [];
  /** Deletes of this reservation's clones still in flight: each holds its slot until its instance is gone. */
  private readonly deleting = new Set<Promise<void>>();
  private released: Promise<void> | undefined;

  constructor(
    private readonly deps: Pick<RunnerDeps, 'envManager' | 'prepared'>,
    private readonly ownerId: string,
    readonly slots: number,
    private readonly options: {
      onDraining(): void;
      onRelease(): void;
      /** A clone's use is over and its delete begins (+1), or its delete ended (-1). */
      onDeleting?(change: 1 | -1): void;
      useMaxMs?: number;
      deleteDelayMs?: number;
      onUse?: ThrowawayUseHook;
      /** Names of built-in types, shared by every clone of the runner (see SessionConnections). */
      builtinTypes?: Map<string, string>;
    },
  ) {}

  /** Milliseconds one use of a clone may run in all (ThrowawaySettings.useMaxMs). */
  get useMaxMs(): number {
    return this.options.useMaxMs ?? DEFAULT_THROWAWAY_SETTINGS.useMaxMs;
  }

  /** Takes one of the reservation's slots, waiting for one; answers how to give it back. */
  private async acquire(): Promise<() => void> {
    if (this.released) throw new Error('throwaway reservation used after its release');
    while (this.inUse >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inUse++;
    return () => {
      this.inUse--;
      this.waiting.shift()?.();
      if (this.inUse === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
  }

  /** Runs `work` in one of the reservation's slots (a state build makes an instance too). */
  async inSlot<T>(work: () => Promise<T>): Promise<T> {
    const free = await this.acquire();
    try {
      return await work();
    } finally {
      free();
    }
  }

  /**
   * A new instance on a clone of layer `layerKey` (from env-manager's warm pool when it has that key), `use`
   * run on it, then the instance deleted, whatever `use` did. The learner's instance and the layer are never
   * written: the clone is copy-on-write and its own. The answer does not wait for the delete (~25 ms, ADR
   * 0031); the slot does, so the bounds count every instance until it is gone (see `settled`).
   */
  async withClone<T>(layerKey: string, requestId: string, use: (clone: ThrowawayClone) => Promise<T>): Promise<T> {
    const free = await this.acquire();
    // A warm-pool instance of the key this runner already holds a connection to (a held layer's demand, ADR
    // 0044): env-manager hands that very instance over when it is still in the pool, and the connection set-up
    // leaves the entry's path. It is deleted after use like any clone: a pooled instance is never used twice.
    const prepared = this.deps.prepared?.take(layerKey);
    let instance: InstanceInfo;
    try {
      // Gathered with the request's other clones started in the same turn (an attempt's states): one round trip
      // to env-manager and one claim statement for all of them (ADR 0056).
      instance = await this.deps.envManager.createGathered(
        { ...throwawayOwner(this.ownerId), layerKey, ...(prepared ? { preferInstanceId: prepared.instanceId } : {}) },
        requestId,
      );
    } catch (error) {
      if (prepared) void prepared.client.end().catch(() => {}); // its instance stays in the pool, for another
      free();
      throw error;
    }
    // Another runner may have claimed that instance first: then this one got another, perhaps also prepared.
    const client =
      prepared && instance.id === prepared.instanceId ? prepared : this.deps.prepared?.takeInstance(instance.id);
    if (prepared && client !== prepared) void prepared.client.end().catch(() => {});
    this.options.onUse?.(layerKey, instance.source === 'pool');
    // A set of connections of its own: the clone is no session's, and its connection ends with it.
    const connections = new SessionConnections(this.options.builtinTypes);
    try {
      const connection = await connections.open(instance.id, instance, client?.broken ? undefined : client?.client);
      return await use({ instance, connection });
    } finally {
      this.options.onDeleting?.(1);
      const deleted = (async () => {
        const delay = this.options.deleteDelayMs ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        await connections.closeAll();
        // A delete that fails leaves the instance to env-manager's throwaway TTL (INSTANCE_THROWAWAY_TTL_SECONDS).
        await this.deps.envManager.delete(instance.id, requestId).catch(() => {});
      })().finally(() => {
        this.options.onDeleting?.(-1);
        free();
      });
      this.deleting.add(deleted);
      void deleted.finally(() => this.deleting.delete(deleted));
    }
  }

  /**
   * Resolves once nothing of this reservation runs any more: every slot's work is over and every clone it made
   * is deleted (or its delete failed). A request that fails on one entry (Promise.all) while others still use
   * their clones releases the reservation early: its slots stay counted until those are done too.
   */
  async settled(): Promise<void> {
    while (this.inUse > 0 || this.deleting.size > 0) {
      if (this.inUse > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      else await Promise.allSettled([...this.deleting]);
    }
  }

  /**
   * Gives the slots back once the request is over and its clones are deleted; resolves then. Callers need not
   * wait: the bounds hold the slots until then either way.
   */
  release(): Promise<void> {
    if (!this.released) {
      this.options.onDraining();
      this.released = this.settled().then(() => this.options.onRelease());
    }
    return this.released;
  }
}

/**
 * The throwaway clones of this runner (ADR 0031): SQL that must not touch
 * the learner's instance or any layer (project tests, EXPLAIN ANALYZE, later
 * exercise attempts) runs on a new instance cloned from a layer, which is
 * deleted after, and which env-manager deletes anyway after its throwaway
 * TTL. Bounded per account and in all, refused with a stable code when full.
 */
export class ThrowawayClones {
  private readonly perAccount = new Map<string, number>();
  private total = 0;
  /** Slots of released reservations whose last clones are still being deleted, per account and in all. */
  private readonly drainingPerAccount = new Map<string, number>();
  private drainingTotal = 0;
  /** Clones whose use is over and whose delete is in flight, per account and in all (see `free`). */
  private readonly deletingPerAccount = new Map<string, number>();
  private deletingTotal = 0;
  /** Requests waiting for a draining slot to be given back. */
  private waiters: (() => void)[] = [];
  /** Names of built-in types, learned once for every clone: a clone's first result set then needs no catalog look. */
  private readonly builtinTypes = new Map<string, string>();

  /** The bounds, those not given at their defaults. */
  readonly settings: ThrowawaySettings;

  constructor(
    private readonly deps: Pick<RunnerDeps, 'envManager' | 'prepared'>,
    settings: Partial<ThrowawaySettings> = {},
    private readonly onUse?: ThrowawayUseHook,
  ) {
    this.settings = { ...DEFAULT_THROWAWAY_SETTINGS, ...settings };
  }

  /**
   * Reserves up to `wanted` slots for `ownerId`, at least one: as many as the
   * account's and the runner's bounds leave free. When none is free but some
   * are only waiting for a finished request's clone to be deleted (an EXPLAIN
   * right after another), it waits for them, up to `waitMs`; otherwise it
   * refuses: SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY (429) or
   * SQL_RUNNER_THROWAWAY_BUSY (503).
   */
  async reserve(ownerId: string, wanted: number, waitMs = DRAIN_WAIT_MS): Promise<ThrowawayReservation> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const free = this.free(ownerId);
      if (free.account > 0 && free.runner > 0) return this.take(ownerId, Math.min(wanted, free.account, free.runner));
      const drains =
        free.account <= 0
          ? (this.drainingPerAccount.get(ownerId) ?? 0) > 0 || (this.deletingPerAccount.get(ownerId) ?? 0) > 0
          : this.drainingTotal > 0 || this.deletingTotal > 0;
      const left = deadline - performance.now();
      if (!drains || left <= 0) throw this.refusal(free.account <= 0);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Slots free for `ownerId` and on the runner. A clone whose use is over but whose delete is still in flight
   * (~50–150 ms: its server stopped, its volume destroyed) does not keep the next request waiting: the bounds
   * count clones in use, and as many again being deleted (ADR 0044). So a grader's next dataset starts as
   * soon as the last one answered, and an account never has more than twice its bound of instances alive.
   */
  private free(ownerId: string): { account: number; runner: number } {
    const held = this.perAccount.get(ownerId) ?? 0;
    const inUse = held - (this.deletingPerAccount.get(ownerId) ?? 0);
    const { maxPerAccount, maxTotal } = this.settings;
    return {
      account: Math.min(maxPerAccount - inUse, 2 * maxPerAccount - held),
      runner: Math.min(maxTotal - (this.total - this.deletingTotal), 2 * maxTotal - this.total),
    };
  }

  private refusal(account: boolean): SqlRunnerError {
    const details = { retryAfterSeconds: THROWAWAY_RETRY_AFTER_SECONDS };
    return account
      ? new SqlRunnerError(
          'SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY',
          `This account already uses ${this.settings.maxPerAccount} throwaway instances (tests, EXPLAIN); try again when they are done.`,
          { details },
        )
      : new SqlRunnerError(
          'SQL_RUNNER_THROWAWAY_BUSY',
          'Every throwaway instance of the platform is in use; try again in a moment.',
          { details },
        );
  }

  private take(ownerId: string, slots: number): ThrowawayReservation {
    const add = (map: Map<string, number>, n: number) => {
      const now = (map.get(ownerId) ?? 0) + n;
      if (now > 0) map.set(ownerId, now);
      else map.delete(ownerId);
    };
    add(this.perAccount, slots);
    this.total += slots;
    return new ThrowawayReservation(this.deps, ownerId, slots, {
      onDraining: () => {
        add(this.drainingPerAccount, slots);
        this.drainingTotal += slots;
      },
      onRelease: () => {
        add(this.drainingPerAccount, -slots);
        this.drainingTotal -= slots;
        add(this.perAccount, -slots);
        this.total -= slots;
        for (const wake of this.waiters.splice(0)) wake();
      },
      onDeleting: (change) => {
        add(this.deletingPerAccount, change);
        this.deletingTotal += change;
        // A delete begun frees a slot for waiting requests as surely as one ended.
        if (change === 1) for (const wake of this.waiters.splice(0)) wake();
      },
      useMaxMs: this.settings.useMaxMs,
      ...(this.settings.deleteDelayMs ? { deleteDelayMs: this.settings.deleteDelayMs } : {}),
      ...(this.onUse ? { onUse: this.onUse } : {}),
      builtinTypes: this.builtinTypes,
    });
  }

  /** Slots held now, by everyone: what a test reads to see everything was given back. */
  get inUse(): number {
    return this.total;
  }
}
