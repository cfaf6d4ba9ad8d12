import { DomainError, KIT_ERROR_CODES, NotFoundError, UnavailableError } from '@taidon/kit';

/** Every code env-manager answers with; each is documented in services/env-manager/README.md (checked by a test). */
export const ENV_MANAGER_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  ENV_MANAGER_INSTANCE_NOT_FOUND: 'No instance has this id.',
  ENV_MANAGER_INVALID_STATE: 'The instance is not in a state that allows this operation; `state` says which it is in.',
  ENV_MANAGER_START_FAILED:
    'The PostgreSQL server of the instance did not start; its last stderr lines are in the log, not in the body.',
  ENV_MANAGER_LAYER_NOT_FOUND: 'snapshot-cache has no layer with the requested key.',
  ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE: 'snapshot-cache did not answer, or answered with an unexpected error.',
  ENV_MANAGER_SNAPSHOT_FAILED: 'Taking a layer of the instance failed; the instance was thawed or restarted.',
  ENV_MANAGER_WARM_POOL_FULL: 'The requested warm-pool sizes add up to more than WARM_POOL_MAX_INSTANCES.',
  ENV_MANAGER_CREATION_ABANDONED:
    'The caller closed its request while the creation still waited for a slot; nothing was started.',
  ENV_MANAGER_SHUTTING_DOWN: 'env-manager is shutting down and starts no server any more; retry once it is back.',
};

/** The instance id is unknown. */
export class InstanceNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('ENV_MANAGER_INSTANCE_NOT_FOUND', `No instance ${id}.`, { instanceId: id });
  }
}

/** The operation is not allowed in the instance's current state. */
export class InvalidStateError extends DomainError {
  constructor(id: string, state: string, operation: string) {
    super('ENV_MANAGER_INVALID_STATE', `Instance ${id} is ${state}; cannot ${operation}.`, {
      statusCode: 409,
      details: { instanceId: id, state },
    });
  }
}

/** The server did not start; `serverLog` holds its last stderr lines for the log line, never the body. */
export class StartFailedError extends UnavailableError {
  readonly reason: string;
  readonly serverLog: string;
  constructor(reason: string, serverLog: string, cause?: unknown) {
    super('ENV_MANAGER_START_FAILED', 'The PostgreSQL server of the instance did not start.', cause);
    this.reason = reason;
    this.serverLog = serverLog;
  }
}

/** A layer could not be taken. */
export class SnapshotFailedError extends UnavailableError {
  constructor(cause: unknown) {
    super('ENV_MANAGER_SNAPSHOT_FAILED', 'Taking a layer of the instance failed.', cause);
  }
}

/** The caller of a create went away while it waited in the creation queue; the creation is withdrawn. */
export class CreationAbandonedError extends UnavailableError {
  constructor() {
    super('ENV_MANAGER_CREATION_ABANDONED', 'The caller gave up while the creation waited for a slot.');
  }
}

/** env-manager is closing: it starts no server any more (a server it started would outlive its sweep). */
export class ShuttingDownError extends UnavailableError {
  constructor() {
    super('ENV_MANAGER_SHUTTING_DOWN', 'env-manager is shutting down; no server is started any more.');
  }
}
