import { detached } from '@taidon/kit';

/** Most instances in one call: env-manager's own bound. */
const MAX_PER_CALL = 1000;

export interface InstanceUse {
  id: string;
  /** The key the instance is at after the run; null when the run left it unknown (the key it had stays). */
  currentKey: string | null;
}

/**
 * The instances runs used, told to env-manager in batches: each run ends with its instance marked used (its
 * idle TTL starts again) at its new key, and one call every `delayMs` for all of them costs env-manager one
 * statement instead of one request per run (a third of a REPL run's HTTP requests). Nothing waits for it: a
 * run's own session row already holds its key, and an idle TTL of minutes does not notice the delay. Calls
 * go one after the other, so a later key never arrives before an earlier one.
 */
export class InstanceUses {
  private pending = new Map<string, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (uses: InstanceUse[]) => Promise<unknown>,
    private readonly delayMs: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Records that a run used instance `id`, now at `currentKey` (null: its key did not change or is unknown). */
  note(id: string, currentKey: string | null): void {
    this.pending.set(id, currentKey ?? this.pending.get(id) ?? null);
    if (this.timer) return;
    // A batch of many runs' uses: flushed under none of their request ids.
    this.timer = detached(() => setTimeout(() => void this.flush(), this.delayMs), 'instance-uses');
    this.timer.unref();
  }

  /** Sends what is pending now; resolves once it (and every call before it) was answered or failed. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const uses = [...this.pending].map(([id, currentKey]) => ({ id, currentKey }));
    this.pending = new Map();
    for (let i = 0; i < uses.length; i += MAX_PER_CALL) {
      const batch = uses.slice(i, i + MAX_PER_CALL);
      this.last = this.last.then(() => this.send(batch).then(() => {}, this.onError));
    }
    return this.last;
  }
}
