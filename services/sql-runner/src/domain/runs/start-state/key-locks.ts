/**
 * One builder per missing state: runs that need the same key wait for the
 * first one, then find its layer in the cache instead of building it again.
 * In-process, which is exact for one sql-runner; replicas would add a
 * database advisory lock on the key around the same section.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
