/**
 * How long a run counts as open after its lease was last renewed; past it, its process is taken for dead. A
 * killed process is known at once by its lock (RunnerLock); the lease catches one that hangs, or that held none.
 */
export const RUN_LEASE_SECONDS = 30;
/** How often this process renews the leases of its open runs: a few times per lease, so one late renewal is harmless. */
const RENEW_EVERY_MS = 10_000;

/**
 * The runs this process has open, whose leases it renews together in one
 * statement every few seconds (ADR 0023). A process that dies stops renewing,
 * and its runs' quota reservations are reclaimed once their leases lapse. The
 * timer runs only while runs are open and never keeps the process alive.
 */
export class RunLeases {
  private readonly open = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly renew: (runIds: string[]) => Promise<void>,
    private readonly everyMs = RENEW_EVERY_MS,
  ) {}

  add(runId: string): void {
    this.open.add(runId);
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A failed renewal is retried at the next tick; a lease outlives a few of them.
      void this.renew([...this.open]).catch(() => {});
    }, this.everyMs);
    this.timer.unref();
  }

  remove(runId: string): void {
    this.open.delete(runId);
    if (this.open.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs whose leases this process renews. */
  get size(): number {
    return this.open.size;
  }
}
