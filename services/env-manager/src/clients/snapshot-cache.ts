import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { EnvManagerError } from '../errors.js';

/** snapshot-cache's storage driver, as `GET /driver` answers it. */
export interface DriverInfo {
  name: string;
  /** false: the server must be stopped while its volume is snapshotted (copy driver). */
  atomicSnapshot: boolean;
  /** Holds `volumes/` and `layers/`; reconcile treats servers on paths below it as ours. */
  rootDir: string;
}

/** A writable volume: an empty data directory, or a clone of a layer. */
export interface Volume {
  id: string;
  path: string;
  layerKey: string | null;
}

/** A layer as snapshot-cache answers it. */
export interface Layer {
  key: string;
  parentKey: string | null;
  stepCount: number;
  buildMs: number;
  sizeBytes: number;
  pinned: boolean;
  [field: string]: unknown;
}

/** What POST /layers takes. */
export interface CreateLayerRequest {
  key: string;
  parentKey?: string | null;
  volumeId: string;
  stepCount: number;
  buildMs: number;
  pinned?: boolean;
}

/** What env-manager uses of snapshot-cache. */
export interface SnapshotCacheClient {
  driver(): Promise<DriverInfo>;
  createVolume(input: { fromLayerKey?: string; sizeLimitBytes?: number }): Promise<Volume>;
  deleteVolume(id: string): Promise<void>;
  createLayer(input: CreateLayerRequest): Promise<Layer>;
}

/** Options of createSnapshotCacheClient. */
export interface SnapshotCacheClientOptions {
  baseUrl: string;
  serviceToken: string;
  /** Per request; cloning a large layer with the copy driver takes a while. */
  timeoutMs?: number;
  /** Lets tests route requests through `app.inject` of a real snapshot-cache; defaults to global fetch. */
  fetch?: typeof fetch;
}

interface ProblemJson {
  code?: string;
  detail?: string;
  status?: number;
  [extension: string]: unknown;
}

/**
 * Rebuilds a problem+json answer as a DomainError by its code: a missing layer
 * becomes ENV_MANAGER_LAYER_NOT_FOUND (404), 4xx keep their status under our
 * prefix, anything else is ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE (503).
 */
function rebuild(status: number, body: ProblemJson, what: string): EnvManagerError {
  if (body.code === 'SNAPSHOT_CACHE_LAYER_NOT_FOUND') {
    return new EnvManagerError('ENV_MANAGER_LAYER_NOT_FOUND', body.detail ?? 'No layer has this key.', {
      details: { key: body.key },
    });
  }
  return new EnvManagerError('ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE', 'snapshot-cache answered with an error.', {
    cause: new Error(`${what}: ${status} ${body.code ?? ''} ${body.detail ?? ''}`.trim()),
  });
}

/** A typed HTTP client of snapshot-cache. */
export function createSnapshotCacheClient(options: SnapshotCacheClientOptions): SnapshotCacheClient {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function call<T>(method: string, path: string, body?: unknown, tolerated?: string): Promise<T> {
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          [SERVICE_TOKEN_HEADER]: options.serviceToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new EnvManagerError('ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE', 'snapshot-cache did not answer.', {
        cause: error,
      });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const problem = (parsed ?? {}) as ProblemJson;
      if (tolerated !== undefined && problem.code === tolerated) return undefined as T;
      throw rebuild(response.status, problem, what);
    }
    return parsed as T;
  }

  return {
    driver: () => call<DriverInfo>('GET', '/driver'),
    createVolume: (input) => call<Volume>('POST', '/volumes', input),
    // Deleting a volume that is already gone is done, so retries after a partial failure succeed.
    deleteVolume: (id) =>
      call<void>('DELETE', `/volumes/${encodeURIComponent(id)}`, undefined, 'SNAPSHOT_CACHE_VOLUME_NOT_FOUND'),
    createLayer: (input) => call<Layer>('POST', '/layers', input),
  };
}
