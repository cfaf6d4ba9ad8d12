import { VcsSyncError } from '../errors.js';

interface Lane {
  running: number;
  waiting: (() => void)[];
}

/**
 * Bounds the git work of each account: `maxRunning` operations at once, up
 * to `maxWaiting` more queued in order, and a 429 past that, so one account
 * saving in a loop cannot take every git process of the machine.
 */
export class AccountGate {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  /** Runs `work` in the account's lane once a place is free. */
  async run<T>(accountId: string, work: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(accountId);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.lanes.set(accountId, lane);
    }
    if (lane.running >= this.maxRunning) {
      if (lane.waiting.length >= this.maxWaiting) {
        throw new VcsSyncError('VCS_SYNC_BUSY', 'You have too many project operations under way; retry in a moment.', {
          details: { retryAfterSeconds: 1 },
        });
      }
      const queued = lane;
      await new Promise<void>((resolve) => queued.waiting.push(resolve));
    } else {
      lane.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = lane.waiting.shift();
      // The place passes straight to the next waiter; the lane is forgotten once idle, so the map stays small.
      if (next) next();
      else {
        lane.running -= 1;
        if (lane.running === 0) this.lanes.delete(accountId);
      }
    }
  }
}

/**
 * One change at a time per project: a save, a restore and a delete of one
 * project never interleave, so the working tree always equals its last
 * commit between them. Reads need no lock (git reads a commit whole).
 */
export class ProjectLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(projectId) ?? Promise.resolve();
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    this.tails.set(projectId, tail);
    await before;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(projectId) === tail) this.tails.delete(projectId);
    }
  }
}
