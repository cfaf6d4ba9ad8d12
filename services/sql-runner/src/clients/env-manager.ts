import { EnvManagerApi } from '@taidon/contracts';
import { callService, errorOfBatchRefusal, type ServiceEndpoint, TurnBatches } from '@taidon/kit';

// The shapes are env-manager's contract, declared once in @taidon/contracts; named here for sql-runner's code.
/** Connection details of a running sandbox instance, as env-manager answers them. */
export type InstanceInfo = EnvManagerApi.InstanceInfo;
/** A started, unclaimed warm-pool instance; `poolKey` is the layer key it serves (`template` for templates). */
export type PooledInstance = EnvManagerApi.PooledInstance;
/** The engine identity env-manager's template is built from; part of every base key. */
export type EngineInfo = EnvManagerApi.EngineInfo;
/** What a snapshot made: the layer, and the instance after it (a copy-driver snapshot restarts the server). */
export type SnapshotResult = EnvManagerApi.SnapshotResult;

/** sql-runner's view of env-manager's API. */
export class EnvManagerClient {
  /** `createGathered` calls of one request id, sent at the end of the turn they were made in. */
  private readonly creates = new TurnBatches<EnvManagerApi.CreateInstanceRequest, InstanceInfo>(
    EnvManagerApi.MAX_INSTANCE_BATCH,
    async (requestId, instances) => {
      const { answers } = await callService<EnvManagerApi.CreateInstancesAnswer>(this.endpoint, '/instances/batch', {
        body: { instances },
        ...(requestId ? { requestId } : {}),
      });
      return answers.map((a) =>
        a.ok ? { ok: true, value: a.instance } : { ok: false, error: errorOfBatchRefusal(a) },
      );
    },
  );

  constructor(private readonly endpoint: ServiceEndpoint) {}

  engine(requestId?: string): Promise<EngineInfo> {
    return callService(this.endpoint, '/engine', { requestId });
  }

  create(body: EnvManagerApi.CreateInstanceRequest, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, '/instances', { body, requestId });
  }

  /**
   * `create`, gathered: the calls of one request made in the same turn of the event loop (a grader's clones of an
   * attempt's states, started together) go to env-manager as one `POST /instances/batch`, which claims the
   * pooled instances they name in one statement (ADR 0056). Each is answered, or refused with the DomainError
   * `POST /instances` would have given it.
   */
  createGathered(body: EnvManagerApi.CreateInstanceRequest, requestId?: string): Promise<InstanceInfo> {
    return this.creates.call(requestId ?? '', body);
  }

  get(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}`, { requestId });
  }

  /** Connection details of a Running instance, starting it again first if it was suspended. */
  resume(id: string, requestId?: string): Promise<InstanceInfo> {
    return callService(this.endpoint, `/instances/${id}/resume`, { method: 'POST', body: {}, requestId });
  }

  /** Recreates the sandbox database from the instance's template database at `key` (ADR 0029); 409 when it has none. */
  resetToTemplate(id: string, key: string, requestId?: string): Promise<InstanceInfo> {
    const body: EnvManagerApi.ResetRequest = { key };
    return callService(this.endpoint, `/instances/${id}/reset`, { body, requestId });
  }

  snapshot(id: string, body: EnvManagerApi.SnapshotRequest, requestId?: string): Promise<SnapshotResult> {
    return callService(this.endpoint, `/instances/${id}/layers`, { body, requestId });
  }

  /** Marks many instances used now, each at its new key where one is given (see InstanceUses). */
  touchMany(
    instances: readonly { id: string; currentKey: string | null }[],
    requestId?: string,
  ): Promise<EnvManagerApi.TouchInstancesAnswer> {
    return callService(this.endpoint, '/instances/touch', { method: 'POST', body: { instances }, requestId });
  }

  /** Keeps `size` started, untouched instances of layer `key` ready (0 withdraws the demand). */
  warmPool(key: string, size: number, requestId?: string): Promise<EnvManagerApi.PoolStatus> {
    return callService(this.endpoint, `/warm-pool/${key}`, { method: 'PUT', body: { size }, requestId });
  }

  /** Ready instances of every warm pool, the `perKey` oldest of each (no credentials: the learner needs none). */
  pooled(perKey: number, requestId?: string): Promise<PooledInstance[]> {
    return callService(this.endpoint, `/warm-pool/instances?perKey=${perKey}`, { requestId });
  }

  delete(id: string, requestId?: string): Promise<EnvManagerApi.Instance> {
    return callService(this.endpoint, `/instances/${id}`, { method: 'DELETE', requestId });
  }
}
