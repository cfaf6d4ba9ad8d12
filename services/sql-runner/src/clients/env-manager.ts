import { callService, type ServiceEndpoint } from '@taidon/kit';

/** Connection details of a running sandbox instance, as env-manager answers them. */
export interface InstanceInfo {
  id: string;
  state: string;
  host: string;
  port: number;
  database: string;
  user: string;
  admin: { user: string; password: string };
  layerKey: string | null;
  currentKey: string | null;
  source: 'pool' | 'clone' | 'template' | 'resume';
  readyMs: number;
}

/** A started, unclaimed warm-pool instance. */
export interface PooledInstance {
  id: string;
  /** The layer key the pool serves (`template` for fresh templates). */
  poolKey: string | null;
  host: string | null;
  port: number | null;
  database: string;
  user: string;
}

/** The engine identity env-manager's template is built from; part of every base key. */
export interface EngineInfo {
  version: string;
  templateVersion: string;
  settings: Record<string, string>;
}

/** What a snapshot made: the layer, and the instance after it (a copy-driver snapshot restarts the server). */
export interface SnapshotResult {
  layer: { key: string; sizeBytes: number };
  snapshotMs: number;
  /** The instance after the snapshot, without credentials. */
  instance: { host: string | null; port: number | null; state: string };
}

/** sql-runner's view of env-manager's API. */
export class EnvManagerClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  engine(requestId?: string): Promise<EngineInfo> {
    return callService(this.endpoint, '/engine', { requestId });
  }

  create(
    body: {
      ownerId: string;
      ownerRole?: string;
      sessionId?: string;
      layerKey: string | null;
      /** A pooled instance this runner holds a prepared connection to. */
      preferInstanceId?: string;
    },
    requestId?: string,
  ): Promise<InstanceInfo> {
    return callService(this.endpoint, '/instances', { body, requestId });
  }

  get(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}`, { requestId });
  }

  /** Connection details of a Running instance, starting it again first if it was suspended. */
  resume(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}/resume`, { method: 'POST', body: {}, requestId });
  }

  snapshot(
    id: string,
    body: { key: string; parentKey: string | null; stepCount: number; buildMs: number },
    requestId?: string,
  ): Promise<SnapshotResult> {
    return callService(this.endpoint, `/instances/${id}/layers`, { body, requestId });
  }

  /** Marks many instances used now, each at its new key where one is given (see InstanceUses). */
  touchMany(
    instances: readonly { id: string; currentKey: string | null }[],
    requestId?: string,
  ): Promise<{ updated: string[]; notLive: string[] }> {
    return callService(this.endpoint, '/instances/touch', { method: 'POST', body: { instances }, requestId });
  }

  /** Keeps `size` started, untouched instances of layer `key` ready (0 withdraws the demand). */
  warmPool(key: string, size: number, requestId?: string): Promise<unknown> {
    return callService(this.endpoint, `/warm-pool/${key}`, { method: 'PUT', body: { size }, requestId });
  }

  /** Ready instances of every warm pool, the `perKey` oldest of each (no credentials: the learner needs none). */
  pooled(perKey: number, requestId?: string): Promise<PooledInstance[]> {
    return callService(this.endpoint, `/warm-pool/instances?perKey=${perKey}`, { requestId });
  }

  delete(id: string, requestId?: string): Promise<unknown> {
    return callService(this.endpoint, `/instances/${id}`, { method: 'DELETE', requestId });
  }
}
