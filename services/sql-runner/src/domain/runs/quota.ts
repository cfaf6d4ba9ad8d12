import { ACCOUNT_ERROR_CODES, type Quotas, type RoleQuotas } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type pg from 'pg';
import {
  abandonRun,
  admitRun,
  claimInstanceSlot,
  type Reclaimed,
  renewLeases,
  runsLastMinute,
  unmarkReclaimed,
} from '../../store/admissions.js';
import { RunnerLock } from '../../store/runner-lock.js';
import { releaseSlot } from '../../store/runs.js';
import { RUN_LEASE_SECONDS, RunLeases } from './leases.js';
import { InstanceQuotaExceededError, OpenRunsExceededError, RunRateExceededError } from './quota-errors.js';

/**
 * How long an account's quotas are reused before user-profile is asked again. Learners think 5–20 s between
 * runs, so at 10 s nearly every run asked (under bench/load, user-profile's one request per run was ~10 % of
 * the platform's CPU per run). A change of role (an upgrade, an admin's) is seen at once, on the first run with
 * a token of the new role (the cache is keyed by both); an override or a role default changed in user-profile
 * applies within this time.
 */
const QUOTA_CACHE_MS = 60_000;
/** How long known quotas stand in for user-profile when it does not answer. */
const STALE_QUOTA_MS = 10 * 60_000;

/** A run the quotas admitted: recorded, leased by this process, perhaps holding an instance slot. */
export interface AdmittedRun {
  runId: string;
  quotas: Quotas;
  holdsSlot: boolean;
  /** Whether the session's own instance was reclaimed for this run (it is deleted already). */
  ownInstanceReclaimed: boolean;
}

/** An instance of the account, as env-manager lists it. */
interface ListedInstance {
  id: string;
  state: string;
  sessionId: string | null;
}

/** Where quotas come from, where they are counted, and how a reclaimed session lets go of its instance. */
export interface RunQuotaDeps {
  userProfile: ServiceEndpoint;
  envManager: ServiceEndpoint;
  pool: pg.Pool;
  /** Closes sql-runner's connection to a session's instance before that instance is deleted. */
  dropConnection: (sessionId: string) => Promise<void>;
  /** Runs one account may have open at once (RUN_MAX_OPEN_PER_ACCOUNT); an account may always have one per instance. */
  maxOpenRuns: number;
  now?: () => number;
}

/**
 * Quotas of runs (ADR 0006, 0023): the run rate, the runs open at once and the
 * instances of an account, all checked and the run recorded in one statement
 * under the account's row lock in the control-plane database, so simultaneous
 * runs, on any replica, are admitted one after the other and never hold more
 * than the quotas. Quotas come from user-profile and are cached briefly; an
 * account user-profile does not know gets its token role's defaults.
 */
export class RunQuota {
  private readonly cache = new Map<string, { quotas: Quotas; at: number }>();
  private roles: { quotas: RoleQuotas; at: number } | undefined;
  private sweptAt = 0;
  private readonly now: () => number;
  /** The open runs of this process, whose leases it renews. */
  readonly leases: RunLeases;
  /** This process's liveness, recorded on the runs it admits: a killed process's runs are reclaimed at once. */
  private readonly lock: RunnerLock;

  constructor(private readonly deps: RunQuotaDeps) {
    this.now = deps.now ?? Date.now;
    this.leases = new RunLeases((ids) => renewLeases(deps.pool, ids, RUN_LEASE_SECONDS));
    this.lock = new RunnerLock(deps.pool.options);
  }

  /** Lets go of this process's liveness lock; called when the service closes, after its runs ended. */
  close(): Promise<void> {
    return this.lock.close();
  }

  /** The account's effective quotas. */
  async quotasFor(ownerId: string, role: string, requestId?: string): Promise<Quotas> {
    this.forgetIdle();
    // The token's role is part of the key: a token of a new role asks user-profile again.
    const cacheKey = `${role}:${ownerId}`;
    const cached = this.cache.get(cacheKey);
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
    this.cache.set(cacheKey, { quotas, at: this.now() });
    return quotas;
  }

  private async roleDefaults(role: string, requestId?: string): Promise<Quotas> {
    if (!this.roles || this.now() - this.roles.at >= QUOTA_CACHE_MS) {
      const quotas = await callService<RoleQuotas>(this.deps.userProfile, '/roles/quotas', { requestId });
      this.roles = { quotas, at: this.now() };
    }
    return this.roles.quotas[role as keyof RoleQuotas] ?? this.roles.quotas.anonymous;
  }

  /** Forgets quotas of accounts that stopped running, once a minute, so the cache stays as large as the active accounts. */
  private forgetIdle(): void {
    if (this.now() - this.sweptAt < 60_000) return;
    this.sweptAt = this.now();
    for (const [key, entry] of this.cache) if (this.now() - entry.at > STALE_QUOTA_MS) this.cache.delete(key);
  }

  /** Runs the account started in the last minute, on every replica. */
  runsLastMinute(ownerId: string): Promise<number> {
    return runsLastMinute(this.deps.pool, ownerId);
  }

  /** Runs one account may have open at once. */
  maxOpenRuns(quotas: Quotas): number {
    return Math.max(this.deps.maxOpenRuns, quotas.instances);
  }

  /**
   * Admits run `runId` of `ownerId` on `session` (which exists), or throws the refusal (RunRateExceededError,
   * OpenRunsExceededError, InstanceQuotaExceededError). `tailKey` is the key the run starts from (null for a
   * head alone): a run that cannot continue its session's live instance at that key takes an instance slot,
   * and the instances of sessions reclaimed for it are deleted before this returns, so the account's
   * instances never outnumber its quota. The admitted run's lease is renewed until `release`.
   */
  async admit(
    runId: string,
    ownerId: string,
    quotas: Quotas,
    session: { id: string; instanceId: string | null },
    tailKey: string | null,
    requestId?: string,
  ): Promise<AdmittedRun> {
    // Without the lock (the database briefly unreachable on its own connection) the run has its lease alone.
    const runnerKey = (await this.lock.hold()) ? this.lock.key : null;
    const admission = await admitRun(
      this.deps.pool,
      { id: runId, ownerId, sessionId: session.id, tailKey },
      {
        instances: quotas.instances,
        runsPerMinute: quotas.runsPerMinute,
        maxOpenRuns: this.maxOpenRuns(quotas),
        leaseSeconds: RUN_LEASE_SECONDS,
      },
      runnerKey,
    );
    switch (admission.verdict) {
      case 'run-rate':
        throw new RunRateExceededError(quotas.runsPerMinute, admission.retryAfterSeconds);
      case 'open-runs':
        throw new OpenRunsExceededError(this.maxOpenRuns(quotas), admission.held, admission.retryAfterSeconds);
      case 'instances':
        throw new InstanceQuotaExceededError(quotas.instances, admission.held, admission.retryAfterSeconds);
    }
    this.leases.add(runId);
    try {
      await this.reclaim(ownerId, admission.reclaimed, requestId);
    } catch (error) {
      await this.abandon(runId).catch(() => {}); // its lease lapses all the same
      throw error;
    }
    return {
      runId,
      quotas,
      holdsSlot: admission.holdsSlot,
      ownInstanceReclaimed: session.instanceId !== null && admission.reclaimed.instances.includes(session.instanceId),
    };
  }

  /**
   * Takes an instance slot for an admitted run that turned out to need a new instance (its session's
   * instance was gone), reclaiming as `admit` does; throws InstanceQuotaExceededError when there is no room.
   */
  async claimSlot(
    run: AdmittedRun,
    ownerId: string,
    session: { instanceId: string | null },
    requestId?: string,
  ): Promise<void> {
    if (run.holdsSlot) return;
    const claim = await claimInstanceSlot(this.deps.pool, run.runId, run.quotas.instances);
    if (!claim.granted) throw new InstanceQuotaExceededError(run.quotas.instances, claim.held);
    run.holdsSlot = true;
    if (session.instanceId !== null && claim.reclaimed.instances.includes(session.instanceId)) {
      run.ownInstanceReclaimed = true;
    }
    await this.reclaim(ownerId, claim.reclaimed, requestId);
  }

  /** The run ended (its record is finished): its lease is not renewed any more. */
  release(runId: string): void {
    this.leases.remove(runId);
  }

  /**
   * The run ended keeping its instance slot while `deleted` (the deletion of the instance it replaced) is
   * pending: gives the slot back once that settles, renewing the run's lease until then.
   */
  releaseWhen(runId: string, deleted: Promise<void>): void {
    void deleted
      .then(() => releaseSlot(this.deps.pool, runId))
      // A slot not given back lapses with its lease and is reclaimed with its session (ADR 0023).
      .catch(() => {})
      .finally(() => this.leases.remove(runId));
  }

  /** Ends an admitted run that never started, giving back its open run and its slot. */
  async abandon(runId: string): Promise<void> {
    this.leases.remove(runId);
    await abandonRun(this.deps.pool, runId);
  }

  /** Deletes the instances of the sessions whose slots a run took, before that run may start one. */
  private async reclaim(ownerId: string, reclaimed: Reclaimed, requestId?: string): Promise<void> {
    if (reclaimed.sessions.length === 0) return;
    await Promise.all(reclaimed.sessions.map((id) => this.deps.dropConnection(id)));
    const failed: string[] = [];
    let failure: unknown;
    const deleteInstance = (id: string) =>
      callService(this.deps.envManager, `/instances/${id}`, { method: 'DELETE', requestId }).catch((error) => {
        // Already gone (its TTL, its owner): the slot is free all the same.
        if (error instanceof DomainError && error.statusCode === 404) return;
        failed.push(id);
        failure ??= error;
      });
    const swept = reclaimed.sweep.length > 0 ? this.sweepSessions(ownerId, reclaimed, requestId) : undefined;
    await Promise.all([...reclaimed.instances.map(deleteInstance), swept]);
    if (failed.length === 0) return;
    // Still running: counted again, or the account would hold one more instance than its quota.
    await unmarkReclaimed(this.deps.pool, failed);
    throw failure;
  }

  /**
   * Deletes the instances env-manager lists for sessions a dead run may have left one on, other than the
   * live ones deleted by id. Best effort: such an instance was started by a process that died at least a
   * lease ago, and one that cannot be deleted now is left to env-manager's idle TTL.
   */
  private async sweepSessions(ownerId: string, reclaimed: Reclaimed, requestId?: string): Promise<void> {
    const sweep = new Set(reclaimed.sweep);
    const known = new Set(reclaimed.instances);
    const listed = await callService<ListedInstance[]>(
      this.deps.envManager,
      `/instances?ownerId=${encodeURIComponent(ownerId)}`,
      { requestId },
    ).catch(() => [] as ListedInstance[]);
    const left = listed.filter((i) => i.sessionId && sweep.has(i.sessionId) && !known.has(i.id));
    await Promise.allSettled(
      left.map((i) => callService(this.deps.envManager, `/instances/${i.id}`, { method: 'DELETE', requestId })),
    );
  }
}
