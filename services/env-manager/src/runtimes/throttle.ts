/**
 * Lets at most `limit` holders in at once; the others wait in arrival order.
 * env-manager creates instances through one: creating is CPU- and IO-bound
 * (~50 starts/s on 2 cores), and hundreds of creations at once all miss their
 * start timeout and starve snapshot-cache, while a queue serves them at full speed.
 */
export class Semaphore {
  private active = 0;
  private closed = false;
  private readonly waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('shutting down');
    if (this.active >= this.limit) await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.resolve();
    }
  }

  /** Refuses new holders and fails every waiting one, so a shutdown does not wait for a queue. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('shutting down'));
  }
}
