/**
 * Lets at most `limit` holders in at once; the others wait in arrival order.
 * env-manager creates instances through one: creating is CPU- and IO-bound
 * (~50 starts/s on 2 cores), and hundreds of creations at once all miss their
 * start timeout and starve snapshot-cache, while a queue serves them at full speed.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
