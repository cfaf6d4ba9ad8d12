import { callService, type ServiceEndpoint } from '@taidon/kit';

/** sql-runner's view of snapshot-cache: which states are cached. */
export class SnapshotCacheClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  /** The deepest key of `keys` (a chain's key path, in order) that has a layer; index -1 when none. */
  lookup(keys: string[], requestId?: string): Promise<{ key: string | null; index: number }> {
    return callService(this.endpoint, '/layers/lookup', { body: { keys }, requestId });
  }
}
