import { EnvManagerApi } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';

// The shapes are env-manager's contract, declared once in @taidon/contracts; named here for sql-runner's code.
/** Connection details of a running sandbox instance, as env-manager answers them. */
export type InstanceInfo = EnvManagerApi.InstanceInfo;
/** A started, unclaimed warm-pool instance; `poolKey` is the layer key it serves (`template` for templates). */
export type PooledInstance = EnvManagerApi.PooledInstance;
/** The engine identity env-manager's template is built from; part of every base key. */
export type EngineInfo = EnvManagerApi.EngineInfo;
/** What a snapshot made: the layer, and the instance after it (a copy-driver snapshot restarts the server). */
export type SnapshotResult = EnvManagerApi.SnapshotResult;

interface PendingCreate {
  body: EnvManagerApi.CreateInstanceRequest;
  resolve(info: InstanceInfo): void;
  reject(error: unknown): void;
}

/** sql-runner's view of env-manager's API. */
export class EnvManagerClient {
  /** `createGathered` calls not sent yet, by request id; each list is sent at the end of the turn it began in. */
  private readonly gathering = new Map<string, PendingCreate[]>();

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
    const key = requestId ?? '';
    let batch = this.gathering.get(key);
    if (!batch || batch.length >= EnvManagerApi.MAX_INSTANCE_BATCH) {
      const started: PendingCreate[] = [];
      batch = started;
      this.gathering.set(key, started);
      setImmediate(() => {
        if (this.gathering.get(key) === started) this.gathering.delete(key);
        void this.sendBatch(started, requestId);
      });
    }
    const joined = batch;
    return new Promise((resolve, reject) => joined.push({ body, resolve, reject }));
  }

  private async sendBatch(batch: PendingCreate[], requestId?: string): Promise<void> {
    let answers: EnvManagerApi.CreateInstancesAnswer['answers'];
    try {
      ({ answers } = await callService<EnvManagerApi.CreateInstancesAnswer>(this.endpoint, '/instances/batch', {
        body: { instances: batch.map((p) => p.body) },
        requestId,
      }));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const answer = answers[i];
      if (!answer) p.reject(new Error(`env-manager answered ${answers.length} of a batch of ${batch.length}`));
      else if (answer.ok) p.resolve(answer.instance);
      else {
        const { code, message, statusCode, details } = answer;
        p.reject(new DomainError(code, message, { statusCode, details }));
      }
    });
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
