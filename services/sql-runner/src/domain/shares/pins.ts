import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import type { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import {
  keyHeldByLiveShare,
  keysOfUnpinnedLiveShares,
  keysPinnedByDeadShares,
  lockShareScope,
  markLivePinned,
  releaseDeadPins,
} from '../../store/shares.js';

/** The layer to pin does not exist: the marks made for it are rolled back. */
class LayerMissing extends Error {}

/** Keys one sweep pass looks at, of each kind; the rest wait for the next pass. */
const SWEEP_BATCH_KEYS = 100;

/**
 * The layer pins share links hold (ADR 0027). snapshot-cache keeps one flag
 * per layer, so links count their holders here: a key is pinned while a live
 * link of it holds the pin, and unpinned once the last holder is revoked or
 * expired. Every decision on a key is taken under that key's advisory lock,
 * so a new link's pin and an old link's unpin never cross.
 */
export class SharePins {
  constructor(
    private readonly pool: pg.Pool,
    private readonly cache: SnapshotCacheClient,
  ) {}

  /**
   * Pins the layer of `stateKey` for its live links; false when the layer
   * does not exist (yet, or any more): the first run of a link builds it,
   * and this is asked again after that run and by the sweep.
   */
  async hold(stateKey: string, requestId?: string): Promise<boolean> {
    // The rows are marked before the layer is pinned, in the same transaction: a failure between the two
    // then leaves a pin-less mark rolled back, where the other order left a pinned layer no row held, which
    // nothing would ever unpin. Only a failed commit after the pin can still leave one.
    try {
      return await withTransaction(this.pool, async (client) => {
        await lockShareScope(client, 'key', stateKey);
        await markLivePinned(client, stateKey);
        if (!(await this.cache.setPinned(stateKey, true, requestId))) throw new LayerMissing();
        return true;
      });
    } catch (error) {
      if (error instanceof LayerMissing) return false;
      throw error;
    }
  }

  /** Unpins the layer of `stateKey` unless a live link still holds it; the dead links let go either way. */
  release(stateKey: string, requestId?: string): Promise<void> {
    return withTransaction(this.pool, async (client) => {
      await lockShareScope(client, 'key', stateKey);
      if (!(await keyHeldByLiveShare(client, stateKey))) {
        // A layer evicted meanwhile (it could not be while pinned, unless an operator deleted it) has nothing to unpin.
        await this.cache.setPinned(stateKey, false, requestId);
      }
      await releaseDeadPins(client, stateKey);
    });
  }

  /**
   * One pass of the sweep: unpins what expired links held (and what a revoke
   * could not unpin while snapshot-cache was away), and pins the layers of
   * live links built since they were made. Answers how many keys changed.
   */
  async sweep(): Promise<{ released: number; held: number }> {
    let released = 0;
    for (const key of await keysPinnedByDeadShares(this.pool, SWEEP_BATCH_KEYS)) {
      await this.release(key);
      released++;
    }
    let held = 0;
    for (const key of await keysOfUnpinnedLiveShares(this.pool, SWEEP_BATCH_KEYS)) {
      if (await this.hold(key)) held++;
    }
    return { released, held };
  }
}
