import { ACCOUNT_ERROR_CODES, type Quotas, type RoleQuotas } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type pg from 'pg';
import { sessionsWithRunsInFlight } from '../../store/runs-in-flight.js';
import { markEvictedInstances, markInstancesGone, type OpenedSession } from '../../store/sessions.js';

/** What the instance quota reads of the session a run opened. */
export type QuotaSession = Pick<OpenedSession, 'id' | 'instanceId' | 'otherInstances' | 'openedAt'>;

/** Length of the run-rate window. */
const WINDOW_MS = 60_000;
/** How long an account's quotas are reused before user-profile is asked again. */
const QUOTA_CACHE_MS = 10_000;
/** How long known quotas stand in for user-profile when it does not answer. */
const STALE_QUOTA_MS = 10 * 60_000;
/** Instance states that count against the `instances` quota (Failed and Deleting hold nothing for long). */
const HELD_STATES = new Set(['Pending', 'Creating', 'Running', 'Suspended']);

/** More runs started in the last minute than the account's `runsPerMinute`. */
export class RunRateExceededError extends DomainError {
  /** Seconds until the oldest run in the window leaves it; the route sends it as Retry-After. */
  readonly retryAfterSeconds: number;
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      ACCOUNT_ERROR_CODES.runRateExceeded,
      `At most ${limit} runs per minute; try again in ${retryAfterSeconds} s.`,
      {
        statusCode: 429,
        details: { runsPerMinute: limit, retryAfterSeconds },
      },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The run needs a new instance; the account holds its `instances` quota and runs are using every one. */
export class InstanceQuotaExceededError extends DomainError {
  constructor(limit: number, held: number) {
    super(
      ACCOUNT_ERROR_CODES.instanceQuotaExceeded,
      `This account may hold ${limit} instance(s) and runs are using all ${held}; wait for one to finish or continue in its session.`,
      { statusCode: 429, details: { instances: limit, held } },
    );
  }
}

/** An instance of the account, as env-manager lists it. */
interface HeldInstance {
  id: string;
  state: string;
  sessionId: string | null;
  lastUsedAt: string;
}

/** Where quotas come from, where instances are counted, and how a reclaimed session lets go of its instance. */
export interface RunQuotaDeps {
  userProfile: ServiceEndpoint;
  envManager: ServiceEndpoint;
  pool: pg.Pool;
  /** Closes sql-runner's connection to a session's instance before that instance is deleted. */
  dropConnection: (sessionId: string) => Promise<void>;
  /** Whether sql-runner holds an open connection to the session's instance (so that instance is alive and counted). */
  isConnected: (sessionId: string, instanceId: string) => boolean;
  now?: () => number;
}

/**
 * Quotas of runs, enforced before a run's stream starts: a sliding one-minute
 * window of run starts per account (kept in this process, so with several
 * replicas each enforces the limit on its share), and the instance count
 * asked of env-manager (see makeRoomForInstance). Quotas come from user-profile and are cached briefly;
 * an account user-profile does not know gets its token role's defaults.
 */
export class RunQuota {
  private readonly starts = new Map<string, number[]>();
  private readonly cache = new Map<string, { quotas: Quotas; at: number }>();
  private roles: { quotas: RoleQuotas; at: number } | undefined;
  private sweptAt = 0;
  private readonly now: () => number;

  constructor(private readonly deps: RunQuotaDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The account's effective quotas. */
  async quotasFor(ownerId: string, role: string, requestId?: string): Promise<Quotas> {
    const cached = this.cache.get(ownerId);
    if (cached && this.now() - cached.at < QUOTA_CACHE_MS) return cached.quotas;
    let quotas: Quotas;
    try {
      quotas = await callService<Quotas>(this.deps.userProfile, `/accounts/${ownerId}/quotas`, { requestId });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ACCOUNT_ERROR_CODES.accountNotFound)) {
        // user-profile briefly away: the last known limits still hold.
        if (cached && this.now() - cached.at < STALE_QUOTA_MS) return cached.quotas;
        throw error;
      }
      quotas = await this.roleDefaults(role, requestId);
    }
    this.cache.set(ownerId, { quotas, at: this.now() });
    return quotas;
  }

  private async roleDefaults(role: string, requestId?: string): Promise<Quotas> {
    if (!this.roles || this.now() - this.roles.at >= QUOTA_CACHE_MS) {
      const quotas = await callService<RoleQuotas>(this.deps.userProfile, '/roles/quotas', { requestId });
      this.roles = { quotas, at: this.now() };
    }
    return this.roles.quotas[role as keyof RoleQuotas] ?? this.roles.quotas.anonymous;
  }

  /** Runs the account started in the last minute (in this process). */
  runsLastMinute(ownerId: string): number {
    return this.window(ownerId).length;
  }

  private window(ownerId: string): number[] {
    const since = this.now() - WINDOW_MS;
    const kept = (this.starts.get(ownerId) ?? []).filter((at) => at > since);
    if (kept.length === 0) this.starts.delete(ownerId);
    else this.starts.set(ownerId, kept);
    return kept;
  }

  /** Forgets accounts that stopped running, once a minute, so the maps stay as large as the active accounts. */
  private sweep(): void {
    if (this.now() - this.sweptAt < WINDOW_MS) return;
    this.sweptAt = this.now();
    for (const ownerId of [...this.starts.keys()]) this.window(ownerId);
    for (const [ownerId, entry] of this.cache) if (this.now() - entry.at > STALE_QUOTA_MS) this.cache.delete(ownerId);
  }

  /** Counts a run start, or throws RunRateExceededError when the window is full. */
  admitRun(ownerId: string, quotas: Quotas): void {
    this.sweep();
    const window = this.window(ownerId);
    if (window.length >= quotas.runsPerMinute) {
      const oldest = window[window.length - quotas.runsPerMinute] ?? this.now();
      throw new RunRateExceededError(
        quotas.runsPerMinute,
        Math.max(1, Math.ceil((oldest + WINDOW_MS - this.now()) / 1000)),
      );
    }
    window.push(this.now());
    this.starts.set(ownerId, window);
  }

  /**
   * Makes room for the instance a run may need. A session's run at most
   * replaces its own instance, so only the account's other instances count.
   * At the quota, the least recently used ones that no run is using are
   * deleted (their sessions start again from their tail, as after a TTL);
   * when every one is busy, the run is refused.
   */
  async makeRoomForInstance(ownerId: string, quotas: Quotas, session: QuotaSession, requestId?: string): Promise<void> {
    // The REPL path: the session keeps its live instance, so the count cannot grow; no call to env-manager.
    if (session.instanceId && this.deps.isConnected(session.id, session.instanceId)) return;
    // The account's other sessions point at fewer instances than the quota: no call to env-manager either.
    // That count errs high (a session points at an instance its TTL deleted until the full check below marks
    // it gone) except for instances no session points at yet: one being created by another run of the account
    // right now, which the list below would miss as well, and one left by a runner that died mid-run.
    if (session.otherInstances !== undefined && session.otherInstances < quotas.instances) return;
    // A time before the list, on the database's clock (that of updated_at); else this process's, with slack.
    const listedAt = session.openedAt ?? new Date(Date.now() - 1000);
    const listed = (
      await callService<HeldInstance[]>(this.deps.envManager, `/instances?ownerId=${encodeURIComponent(ownerId)}`, {
        requestId,
      })
    ).filter((i) => HELD_STATES.has(i.state));
    // Sessions pointing at instances no longer listed stop counting in the quick check above; this run need
    // not wait for that.
    void markInstancesGone(
      this.deps.pool,
      ownerId,
      listed.map((i) => i.id),
      listedAt,
    ).catch(() => {});
    const held = listed.filter((i) => i.id !== session.instanceId);
    const excess = held.length - quotas.instances + 1;
    if (excess <= 0) return;
    const busy = await sessionsWithRunsInFlight(this.deps.pool, ownerId);
    const idle = held
      .filter((i) => i.sessionId === null || !busy.has(i.sessionId))
      .sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt));
    if (idle.length < excess) throw new InstanceQuotaExceededError(quotas.instances, held.length);
    for (const instance of idle.slice(0, excess)) {
      if (instance.sessionId) await this.deps.dropConnection(instance.sessionId);
      await callService(this.deps.envManager, `/instances/${instance.id}`, { method: 'DELETE', requestId });
    }
    void markEvictedInstances(
      this.deps.pool,
      ownerId,
      idle.slice(0, excess).map((i) => i.id),
    ).catch(() => {});
  }
}
