/** How long a key seen cached is trusted without asking snapshot-cache again. */
const TRUST_MS = 60_000;
/** Keys remembered at most; the oldest are forgotten first. */
const MAX_KEYS = 10_000;

/**
 * Keys this runner saw cached (in a lookup's answer, or a layer it took), so
 * a run of a hot state skips the lookup and asks env-manager for a clone at
 * once. A layer may be evicted meanwhile: env-manager then answers
 * ENV_MANAGER_LAYER_NOT_FOUND, the run forgets the key and looks it up as
 * usual, so a stale entry costs one failed call and never a wrong state.
 */
export class KnownLayers {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  has(key: string): boolean {
    const at = this.seen.get(key);
    if (at === undefined) return false;
    if (this.now() - at < TRUST_MS) return true;
    this.seen.delete(key);
    return false;
  }

  add(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, this.now());
    if (this.seen.size > MAX_KEYS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}
