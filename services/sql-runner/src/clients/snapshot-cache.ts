import { callService, type ServiceEndpoint } from '@taidon/kit';

/** sql-runner's view of snapshot-cache: which states are cached. */
export class SnapshotCacheClient {
  private driver: Promise<{ name: string; atomicSnapshot: boolean }> | undefined;

  constructor(private readonly endpoint: ServiceEndpoint) {}

  /** The storage driver; `atomicSnapshot` false means a snapshot stops the instance (connections drop). */
  driverInfo(requestId?: string): Promise<{ name: string; atomicSnapshot: boolean }> {
    this.driver ??= callService<{ name: string; atomicSnapshot: boolean }>(this.endpoint, '/driver', {
      requestId,
    }).catch((error: unknown) => {
      this.driver = undefined;
      throw error;
    });
    return this.driver;
  }

  /** The deepest key of `keys` (a chain's key path, in order) that has a layer (index -1 when none), and every index that has one. */
  lookup(keys: string[], requestId?: string): Promise<{ key: string | null; index: number; cached: number[] }> {
    return callService(this.endpoint, '/layers/lookup', { body: { keys }, requestId });
  }
}
