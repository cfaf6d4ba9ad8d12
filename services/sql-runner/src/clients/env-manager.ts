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
  source: 'pool' | 'clone' | 'template';
  readyMs: number;
}

/** The engine identity env-manager's template is built from; part of every base key. */
export interface EngineInfo {
  version: string;
  templateVersion: string;
  settings: Record<string, string>;
}

/** The layer a snapshot made. */
export interface LayerInfo {
  key: string;
  sizeBytes: number;
}

/** sql-runner's view of env-manager's API. */
export class EnvManagerClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  engine(requestId?: string): Promise<EngineInfo> {
    return callService(this.endpoint, '/engine', { requestId });
  }

  create(
    body: { ownerId: string; ownerRole?: string; sessionId?: string; layerKey: string | null },
    requestId?: string,
  ): Promise<InstanceInfo> {
    return callService(this.endpoint, '/instances', { body, requestId });
  }

  get(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}`, { requestId });
  }

  resume(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}/resume`, { method: 'POST', body: {}, requestId });
  }

  snapshot(
    id: string,
    body: { key: string; parentKey: string | null; stepCount: number; buildMs: number },
    requestId?: string,
  ): Promise<LayerInfo> {
    return callService(this.endpoint, `/instances/${id}/layers`, { body, requestId });
  }

  setKey(id: string, currentKey: string | null, requestId?: string): Promise<unknown> {
    return callService(this.endpoint, `/instances/${id}`, { method: 'PATCH', body: { currentKey }, requestId });
  }

  delete(id: string, requestId?: string): Promise<unknown> {
    return callService(this.endpoint, `/instances/${id}`, { method: 'DELETE', requestId });
  }
}
