import type { SnapshotCacheApi } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';

/** What a lookup answers: the deepest cached key and its index (-1 when none), and every cached index. */
export type LookupResult = SnapshotCacheApi.LookupResult;

/**
 * Keys sent in one lookup: half of the most snapshot-cache takes in one
 * (100,000 keys, ~6.7 MB of JSON), so a plan of the default 100,000 steps
 * costs three small calls rather than one at the edge of its limit.
 */
export const LOOKUP_CHUNK_KEYS = 50_000;

/** sql-runner's view of snapshot-cache: which states are cached. */
export class SnapshotCacheClient {
  private driver: Promise<SnapshotCacheApi.DriverInfo> | undefined;

  constructor(private readonly endpoint: ServiceEndpoint) {}

  /** The storage driver; `atomicSnapshot` false means a snapshot stops the instance (connections drop). */
  driverInfo(requestId?: string): Promise<SnapshotCacheApi.DriverInfo> {
    this.driver ??= callService<SnapshotCacheApi.DriverInfo>(this.endpoint, '/driver', {
      requestId,
    }).catch((error: unknown) => {
      this.driver = undefined;
      throw error;
    });
    return this.driver;
  }

  /**
   * The deepest key of `keys` (a chain's key path, in order) that has a layer
   * (index -1 when none), and every index that has one. A path longer than
   * one lookup may carry is asked for in chunks, so any plan the planning
   * limits allow can be looked up.
   */
  async lookup(keys: string[], requestId?: string): Promise<LookupResult> {
    if (keys.length <= LOOKUP_CHUNK_KEYS) return this.lookupChunk(keys, requestId);
    const chunks: Promise<LookupResult>[] = [];
    for (let start = 0; start < keys.length; start += LOOKUP_CHUNK_KEYS) {
      chunks.push(this.lookupChunk(keys.slice(start, start + LOOKUP_CHUNK_KEYS), requestId));
    }
    const merged: LookupResult = { key: null, index: -1, cached: [] };
    for (const [n, found] of (await Promise.all(chunks)).entries()) {
      const offset = n * LOOKUP_CHUNK_KEYS;
      merged.cached.push(...found.cached.map((index) => index + offset));
      if (found.key !== null) Object.assign(merged, { key: found.key, index: found.index + offset });
    }
    return merged;
  }

  /**
   * Pins the layer of `key` (never evicted) or unpins it; false when no
   * layer has the key (it was never built, or was evicted before a pin).
   */
  async setPinned(key: string, pinned: boolean, requestId?: string): Promise<boolean> {
    try {
      await callService(this.endpoint, `/layers/${key}/pin`, { method: pinned ? 'PUT' : 'DELETE', requestId });
      return true;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SNAPSHOT_CACHE_LAYER_NOT_FOUND') return false;
      throw error;
    }
  }

  /** Deletes the layer of `key` (refused while clones of it live). */
  async deleteLayer(key: string, requestId?: string): Promise<void> {
    await callService(this.endpoint, `/layers/${key}`, { method: 'DELETE', requestId });
  }

  private lookupChunk(keys: string[], requestId?: string): Promise<LookupResult> {
    return callService(this.endpoint, '/layers/lookup', { body: { keys }, requestId });
  }
}
