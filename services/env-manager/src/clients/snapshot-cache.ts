import type { SnapshotCacheApi } from '@taidon/contracts';
import { callService, DomainError, type ServiceCallOptions, type ServiceEndpoint } from '@taidon/kit';
import { EnvManagerError } from '../errors.js';

// The shapes are snapshot-cache's contract, declared once in @taidon/contracts; named here for env-manager's code.
/** snapshot-cache's storage driver, as `GET /driver` answers it. */
export type DriverInfo = SnapshotCacheApi.DriverInfo;
/** A writable volume: an empty data directory, or a clone of a layer. */
export type Volume = SnapshotCacheApi.Volume;
/** A layer as snapshot-cache answers it. */
export type Layer = SnapshotCacheApi.Layer;
/** What POST /layers takes. */
export type CreateLayerRequest = SnapshotCacheApi.CreateLayerRequest;

/** What env-manager uses of snapshot-cache. */
export interface SnapshotCacheClient {
  driver(): Promise<DriverInfo>;
  createVolume(input: SnapshotCacheApi.CreateVolumeRequest): Promise<Volume>;
  deleteVolume(id: string): Promise<void>;
  createLayer(input: CreateLayerRequest): Promise<Layer>;
}

/** Options of createSnapshotCacheClient. */
export interface SnapshotCacheClientOptions {
  baseUrl: string;
  serviceToken: string;
  /** Deadline of one call; cloning a large layer with the copy driver takes a while. */
  timeoutMs?: number;
}

/**
 * Translates snapshot-cache's refusal into env-manager's terms by its code: a
 * missing layer becomes ENV_MANAGER_LAYER_NOT_FOUND (404), anything else,
 * no answer included, ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE (503) with the
 * original kept as the cause for the log line.
 */
function translate(error: unknown): EnvManagerError {
  if (error instanceof DomainError && error.code === 'SNAPSHOT_CACHE_LAYER_NOT_FOUND') {
    return new EnvManagerError('ENV_MANAGER_LAYER_NOT_FOUND', error.message, { details: { key: error.details.key } });
  }
  return new EnvManagerError('ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE', 'snapshot-cache did not answer as expected.', {
    cause: error,
  });
}

/**
 * A typed client of snapshot-cache on kit's callService, so each call carries
 * the service token, the `x-request-id` of the request it serves and a deadline.
 */
export function createSnapshotCacheClient(options: SnapshotCacheClientOptions): SnapshotCacheClient {
  const endpoint: ServiceEndpoint = {
    name: 'snapshot-cache',
    baseUrl: options.baseUrl,
    serviceToken: options.serviceToken,
    timeoutMs: options.timeoutMs ?? 120_000,
  };

  async function call<T>(path: string, callOptions: ServiceCallOptions, tolerated?: string): Promise<T> {
    try {
      return await callService<T>(endpoint, path, callOptions);
    } catch (error) {
      if (tolerated !== undefined && error instanceof DomainError && error.code === tolerated) return undefined as T;
      throw translate(error);
    }
  }

  return {
    driver: () => call<DriverInfo>('/driver', {}),
    createVolume: (input) => call<Volume>('/volumes', { method: 'POST', body: input }),
    // Deleting a volume that is already gone is done, so retries after a partial failure succeed.
    deleteVolume: (id) =>
      call<void>(`/volumes/${encodeURIComponent(id)}`, { method: 'DELETE' }, 'SNAPSHOT_CACHE_VOLUME_NOT_FOUND'),
    createLayer: (input) => call<Layer>('/layers', { method: 'POST', body: input }),
  };
}
