/** Who is waiting for a slot: a learner's request, or background work such as a warm-pool refill. */
export type Priority = 'request' | 'background';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Lets at most `limit` holders in at once; the others wait in arrival order,
 * requests before background work. env-manager creates instances through
 * one: creating is CPU- and IO-bound (~50 starts/s on 2 cores), and hundreds
 * of creations at once all miss their start timeout and starve
 * snapshot-cache, while a queue serves them at full speed. A warm-pool refill
 * waits while a learner's creation is queued, so a burst of learners is not
 * made to wait behind the refills their own takes caused.
 */
export class Semaphore {
  private active = 0;
  private closed = false;
  private readonly waiting: Record<Priority, Waiter[]> = { request: [], background: [] };

  constructor(private readonly limit: number) {}

  /** Runs `fn` in a slot; `signal` withdraws a holder still waiting (its caller gave up), rejecting with its reason. */
  async run<T>(fn: () => Promise<T>, priority: Priority = 'request', signal?: AbortSignal): Promise<T> {
    if (this.closed) throw new Error('shutting down');
    signal?.throwIfAborted();
    if (this.active >= this.limit || this.queued() > 0) {
      await new Promise<void>((resolve, reject) => {
        const queue = this.waiting[priority];
        const withdraw = () => {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', withdraw);
            resolve();
          },
          reject,
        };
        queue.push(waiter);
        signal?.addEventListener('abort', withdraw, { once: true });
      });
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Holders waiting, by priority. */
  queued(priority?: Priority): number {
    return priority ? this.waiting[priority].length : this.waiting.request.length + this.waiting.background.length;
  }

  /** Refuses new holders and fails every waiting one, so a shutdown does not wait for a queue. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiting.request.splice(0), ...this.waiting.background.splice(0)]) {
      waiter.reject(new Error('shutting down'));
    }
  }

  /** Hands the slot straight to the next waiter (it stays counted as active), else frees it. */
  private release(): void {
    const next = this.waiting.request.shift() ?? this.waiting.background.shift();
    if (next) next.resolve();
    else this.active--;
  }
}
