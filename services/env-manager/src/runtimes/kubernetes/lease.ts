import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiStatus } from './types.js';

/**
 * A Lease's times are MicroTime: the API server parses six fraction digits,
 * and client-node 1.x sends Date.toISOString() (three), which it refuses.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/Z$/, '000Z');
  }
}

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  /** The Lease's name: every replica of one reconciler uses the same. */
  leaseName: string;
  /** This replica's name in the Lease (pod name and a random suffix). */
  identity: string;
  /** How long a holder that stops renewing keeps the Lease, as others see it. */
  leaseDurationMs: number;
  /** How often the holder renews and the others look. */
  retryPeriodMs: number;
  /**
   * A leader that has not renewed for this long stops leading, whatever its renewal in flight is doing (a hung
   * request included), before any other replica may take the Lease (at `leaseDurationMs`); also the most one
   * election round may take. Default two thirds of the lease duration, as client-go's 10 s of 15 s.
   */
  renewDeadlineMs?: number;
  logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** One replica's side of a leader election on a `coordination.k8s.io` Lease. */
export interface LeaderElector {
  isLeader(): boolean;
  start(): void;
  /** Stops taking part; with `release`, gives the Lease up so another replica takes over at once. */
  stop(options?: { release?: boolean }): Promise<void>;
}

/**
 * Leader election as client-go does it: a replica takes the Lease when it is
 * free or when its record (holder, renew time) has not changed for the lease
 * duration as measured on this replica's own clock (never by comparing clocks
 * across machines); every write carries the resourceVersion read, so of two
 * replicas taking it at once one gets 409 and stays a follower. A leader that
 * cannot renew for the lease duration stops leading before another may take
 * over: a timer set at each renewal demotes it at the renew deadline, and no
 * round waits longer than that deadline for the API server, so a hung
 * renewal can never leave two leaders.
 */
export function createLeaderElector(options: LeaderElectionOptions): LeaderElector {
  const { coordination, namespace, leaseName: name, identity, logger } = options;
  const durationSeconds = Math.max(1, Math.ceil(options.leaseDurationMs / 1000));
  const renewDeadlineMs = options.renewDeadlineMs ?? Math.floor((options.leaseDurationMs * 2) / 3);
  if (renewDeadlineMs >= options.leaseDurationMs)
    throw new Error('the renew deadline must be below the lease duration');
  let deadlineTimer: NodeJS.Timeout | undefined;
  let leading = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let observed: { resourceVersion: string; atMs: number } | undefined;
  let lastRenewMs = 0;
  /** The election round in flight (or the last one). */
  let round: Promise<void> = Promise.resolve();

  function setLeading(value: boolean): void {
    if (leading === value) return;
    leading = value;
    logger.info({ lease: name, identity, leading }, leading ? 'became the leader' : 'stopped leading');
    if (value) options.onStartedLeading();
    else options.onStoppedLeading();
  }

  function record(current: V1Lease | undefined, acquired: boolean): V1Lease {
    const now = new MicroTime();
    return {
      metadata: { name, namespace, resourceVersion: current?.metadata?.resourceVersion },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        // Read back, a MicroTime is the string the server sent, whatever its type says: parsed again to send it.
        acquireTime: acquired || !current?.spec?.acquireTime ? now : new MicroTime(String(current.spec.acquireTime)),
        renewTime: now,
        leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (acquired ? 1 : 0),
      },
    };
  }

  async function tryAcquireOrRenew(): Promise<boolean> {
    let current: V1Lease | undefined;
    try {
      current = await coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      await coordination.createNamespacedLease({ namespace, body: record(undefined, true) });
      return true;
    }
    const holder = current.spec?.holderIdentity ?? '';
    const version = current.metadata?.resourceVersion ?? '';
    if (observed?.resourceVersion !== version) observed = { resourceVersion: version, atMs: Date.now() };
    const heldByOther = holder !== '' && holder !== identity;
    const durationMs = (current.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() < observed.atMs + durationMs) return false;
    const updated = await coordination.replaceNamespacedLease({
      name,
      namespace,
      body: record(current, holder !== identity),
    });
    observed = { resourceVersion: updated.metadata?.resourceVersion ?? '', atMs: Date.now() };
    return true;
  }

  /** Demotes this replica at the renew deadline unless it renewed since. */
  function armDeadline(): void {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(
      () => {
        if (!leading || Date.now() - lastRenewMs < renewDeadlineMs) return;
        logger.warn({ lease: name, identity, renewDeadlineMs }, 'lease not renewed within its renew deadline');
        setLeading(false);
      },
      Math.max(0, renewDeadlineMs - (Date.now() - lastRenewMs)),
    );
  }

  /** The round, or a rejection once it has taken the renew deadline (the request itself is left to end). */
  function bounded<T>(work: Promise<T>): Promise<T> {
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new Error(`election round took over ${renewDeadlineMs} ms`)), renewDeadlineMs);
    });
    work.catch(() => {});
    return Promise.race([work, late]).finally(() => clearTimeout(timeout));
  }

  async function tick(): Promise<void> {
    try {
      const started = Date.now();
      const ok = await bounded(tryAcquireOrRenew());
      // Stopped while the round was in flight: what it won is given up by stop(), not acted on.
      if (stopped) return;
      // The renewal counts from when it was sent: the others may have seen the record it replaced that long ago.
      if (ok) lastRenewMs = started;
      if (ok) armDeadline();
      if (ok) setLeading(true);
      else if (leading) setLeading(false);
    } catch (error) {
      // A 409 is another replica's write between our read and ours: it holds the Lease now.
      if (apiStatus(error) !== 409) logger.warn({ err: error, lease: name }, 'lease election round failed');
      if (leading && (apiStatus(error) === 409 || Date.now() - lastRenewMs >= renewDeadlineMs)) {
        setLeading(false);
      }
    }
    if (!stopped) {
      timer = setTimeout(() => {
        round = tick();
      }, options.retryPeriodMs);
    }
  }

  return {
    isLeader: () => leading,
    start() {
      if (!stopped) return;
      stopped = false;
      round = tick();
    },
    async stop({ release = false } = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (deadlineTimer) clearTimeout(deadlineTimer);
      // A renewal in flight ends first, so the release below is the last write.
      await round;
      const wasLeading = leading;
      setLeading(false);
      if (!release || !wasLeading) return;
      try {
        const current = await coordination.readNamespacedLease({ name, namespace });
        if (current.spec?.holderIdentity !== identity) return;
        await coordination.replaceNamespacedLease({
          name,
          namespace,
          body: {
            metadata: { name, namespace, resourceVersion: current.metadata?.resourceVersion },
            spec: {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              leaseTransitions: current.spec?.leaseTransitions,
              renewTime: new MicroTime(),
            },
          },
        });
      } catch (error) {
        logger.warn({ err: error, lease: name }, 'could not release the lease; it expires instead');
      }
    },
  };
}
