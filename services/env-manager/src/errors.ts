import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code env-manager answers with, its status and its meaning: the error
 * classes below, the README's errors table and test/readme.test.ts all read it.
 */
export const ENV_MANAGER_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  ENV_MANAGER_INSTANCE_NOT_FOUND: { status: 404, meaning: 'No instance has this id.' },
  ENV_MANAGER_INVALID_STATE: {
    status: 409,
    meaning: 'The instance is not in a state that allows this operation; `state` says which it is in.',
  },
  ENV_MANAGER_START_FAILED: {
    status: 503,
    meaning:
      'The PostgreSQL server of the instance did not start; its last stderr lines are in the log, not in the body.',
  },
  ENV_MANAGER_LAYER_NOT_FOUND: { status: 404, meaning: 'snapshot-cache has no layer with the requested key.' },
  ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE: {
    status: 503,
    meaning: 'snapshot-cache did not answer, or answered with an unexpected error.',
  },
  ENV_MANAGER_SNAPSHOT_FAILED: {
    status: 503,
    meaning: 'Taking a layer of the instance failed; the instance was thawed or restarted.',
  },
  ENV_MANAGER_WARM_POOL_FULL: {
    status: 409,
    meaning: 'The requested warm-pool sizes add up to more than WARM_POOL_MAX_INSTANCES.',
  },
  ENV_MANAGER_CREATION_ABANDONED: {
    status: 503,
    meaning:
      'The caller closed its request before the instance was ready: on `local` while the creation still waited for a slot (nothing was started); on `kubernetes` at any point before Ready (its TaidonInstance is deleted, its finalizer frees the clone).',
  },
  ENV_MANAGER_TEMPLATE_UNAVAILABLE: {
    status: 409,
    meaning:
      "The instance keeps no template database at the requested key (or the learner's role changed since); nothing was changed: start the state another way.",
  },
  ENV_MANAGER_SHUTTING_DOWN: {
    status: 503,
    meaning: 'env-manager is shutting down and starts no server any more; retry once it is back.',
  },
  ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED: {
    status: 503,
    meaning:
      "The sandbox namespace's ResourceQuota has no room for another instance (kubernetes runtime); nothing was started: retry once instances end.",
  },
  ENV_MANAGER_NO_NODE_AGENT: {
    status: 503,
    meaning:
      'kubernetes runtime: no node agent (snapshot-cache) on a Ready node answered, so no node can hold the clone; nothing was started.',
  },
  ENV_MANAGER_NOT_ON_THIS_RUNTIME: {
    status: 501,
    meaning:
      'The operation is not offered by the runtime env-manager runs (`runtime` says which). No route answers it since the kubernetes runtime keeps a warm pool too (ADR 0055); kept for callers of an env-manager from before.',
  },
} as const satisfies ErrorCatalogue;

/** One of env-manager's codes. */
export type EnvManagerErrorCode = keyof typeof ENV_MANAGER_ERROR_CODES;

/** Every error env-manager throws: its code must be in ENV_MANAGER_ERROR_CODES, whose status it answers with. */
export class EnvManagerError extends catalogueErrorClass(ENV_MANAGER_ERROR_CODES) {}

/** The instance id is unknown. */
export class InstanceNotFoundError extends EnvManagerError {
  constructor(id: string) {
    super('ENV_MANAGER_INSTANCE_NOT_FOUND', `No instance ${id}.`, { details: { instanceId: id } });
  }
}

/** The operation is not allowed in the instance's current state. */
export class InvalidStateError extends EnvManagerError {
  constructor(id: string, state: string, operation: string) {
    super('ENV_MANAGER_INVALID_STATE', `Instance ${id} is ${state}; cannot ${operation}.`, {
      details: { instanceId: id, state },
    });
  }
}

/** The server did not start; `serverLog` holds its last stderr lines for the log line, never the body. */
export class StartFailedError extends EnvManagerError {
  readonly reason: string;
  readonly serverLog: string;
  constructor(reason: string, serverLog: string, cause?: unknown) {
    super('ENV_MANAGER_START_FAILED', 'The PostgreSQL server of the instance did not start.', { cause });
    this.reason = reason;
    this.serverLog = serverLog;
  }
}

/** A layer could not be taken. */
export class SnapshotFailedError extends EnvManagerError {
  constructor(cause: unknown) {
    super('ENV_MANAGER_SNAPSHOT_FAILED', 'Taking a layer of the instance failed.', { cause });
  }
}

/**
 * The caller of a create went away before its instance was ready: the creation is withdrawn (local: while it
 * waited in the creation queue; kubernetes: its resource deleted).
 */
export class CreationAbandonedError extends EnvManagerError {
  constructor() {
    super('ENV_MANAGER_CREATION_ABANDONED', 'The caller gave up before the instance was ready.');
  }
}

/** env-manager is closing: it starts no server any more (a server it started would outlive its sweep). */
export class ShuttingDownError extends EnvManagerError {
  constructor() {
    super('ENV_MANAGER_SHUTTING_DOWN', 'env-manager is shutting down; no server is started any more.');
  }
}

/** A reset from the instance's template database is not possible; `reason` says why. */
export class TemplateUnavailableError extends EnvManagerError {
  constructor(id: string, reason: string) {
    super('ENV_MANAGER_TEMPLATE_UNAVAILABLE', `Instance ${id} cannot be reset from its template: ${reason}.`, {
      details: { instanceId: id, reason },
    });
  }
}

/** The sandbox namespace's ResourceQuota refused the instance (its resource or its Pod); `quota` is the API server's word. */
export class NamespaceQuotaError extends EnvManagerError {
  readonly quota: string;
  constructor(id: string, quota: string) {
    super('ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED', 'The sandbox namespace has no room for another instance.', {
      details: { instanceId: id },
    });
    this.quota = quota;
  }
}

/** No node agent answered on a Ready node: nowhere to clone (kubernetes runtime). */
export class NoNodeAgentError extends EnvManagerError {
  constructor(nodes: number, agents: number) {
    super('ENV_MANAGER_NO_NODE_AGENT', 'No node agent on a Ready node answered; nothing was started.', {
      details: { readyNodes: nodes, agents },
    });
  }
}

/** The operation is not offered by this runtime. */
export class NotOnThisRuntimeError extends EnvManagerError {
  constructor(runtime: string, operation: string) {
    super('ENV_MANAGER_NOT_ON_THIS_RUNTIME', `The ${runtime} runtime cannot ${operation}.`, {
      details: { runtime, operation },
    });
  }
}
