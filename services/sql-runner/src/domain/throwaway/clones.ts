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
}

/** Defaults of THROWAWAY_MAX_PER_ACCOUNT and THROWAWAY_MAX. */
export const DEFAULT_THROWAWAY_SETTINGS: ThrowawaySettings = { maxPerAccount: 2, maxTotal: 8 };

/** Seconds a refused request is told to wait (Retry-After): a clone lives about as long as one test file. */
export const THROWAWAY_RETRY_AFTER_SECONDS = 1;

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
  private released = false;

  constructor(
    private readonly deps: Pick<RunnerDeps, 'envManager'>,
    private readonly ownerId: string,
    readonly slots: number,
    private readonly onRelease: () => void,
  ) {}

  /** Runs `work` in one of the reservation's slots (a state build makes an instance too). */
  async inSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.released) throw new Error('throwaway reservation used after its release');
    while (this.inUse >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inUse++;
    try {
      return await work();
    } finally {
      this.inUse--;
      this.waiting.shift()?.();
    }
  }

  /**
   * A new instance on a clone of layer `layerKey` (from env-manager's warm pool when it has that key), `use`
   * run on it, then the instance deleted, whatever `use` did. The learner's instance and the layer are never
   * written: the clone is copy-on-write and its own.
   */
  withClone<T>(layerKey: string, requestId: string, use: (clone: ThrowawayClone) => Promise<T>): Promise<T> {
    return this.inSlot(async () => {
      const instance = await this.deps.envManager.create({ ...throwawayOwner(this.ownerId), layerKey }, requestId);
      // A set of connections of its own: the clone is no session's, and its connection ends with it.
      const connections = new SessionConnections();
      try {
        const connection = await connections.open(instance.id, instance);
        return await use({ instance, connection });
      } finally {
        await connections.closeAll();
        // A delete that fails leaves the instance to env-manager's throwaway TTL (INSTANCE_THROWAWAY_TTL_SECONDS).
        await this.deps.envManager.delete(instance.id, requestId).catch(() => {});
      }
    });
  }

  /** Gives the slots back; called once the request is over. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
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

  constructor(
    private readonly deps: Pick<RunnerDeps, 'envManager'>,
    readonly settings: ThrowawaySettings = DEFAULT_THROWAWAY_SETTINGS,
  ) {}

  /**
   * Reserves up to `wanted` slots for `ownerId`, at least one: as many as the
   * account's and the runner's bounds leave free. None free is refused:
   * SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY (429) or SQL_RUNNER_THROWAWAY_BUSY (503).
   */
  reserve(ownerId: string, wanted: number): ThrowawayReservation {
    const held = this.perAccount.get(ownerId) ?? 0;
    const accountFree = this.settings.maxPerAccount - held;
    if (accountFree <= 0) {
      throw new SqlRunnerError(
        'SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY',
        `This account already uses ${this.settings.maxPerAccount} throwaway instances (tests, EXPLAIN); try again when they are done.`,
        { details: { retryAfterSeconds: THROWAWAY_RETRY_AFTER_SECONDS } },
      );
    }
    const runnerFree = this.settings.maxTotal - this.total;
    if (runnerFree <= 0) {
      throw new SqlRunnerError(
        'SQL_RUNNER_THROWAWAY_BUSY',
        'Every throwaway instance of the platform is in use; try again in a moment.',
        { details: { retryAfterSeconds: THROWAWAY_RETRY_AFTER_SECONDS } },
      );
    }
    const slots = Math.max(1, Math.min(wanted, accountFree, runnerFree));
    this.perAccount.set(ownerId, held + slots);
    this.total += slots;
    return new ThrowawayReservation(this.deps, ownerId, slots, () => {
      const now = (this.perAccount.get(ownerId) ?? slots) - slots;
      if (now > 0) this.perAccount.set(ownerId, now);
      else this.perAccount.delete(ownerId);
      this.total -= slots;
    });
  }

  /** Slots held now, by everyone: what a test reads to see everything was given back. */
  get inUse(): number {
    return this.total;
  }
}
