// Plain JSON schemas: env-manager's contract is internal (sql-runner and the
// gateway call it), so it is declared here rather than in @taidon/contracts.

/** A state key: sha256 of an SQL chain, 64 lowercase hex digits (as snapshot-cache keys layers). */
export const StateKey = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const NullableKey = { anyOf: [StateKey, { type: 'null' }] } as const;
const States = ['Pending', 'Creating', 'Running', 'Suspended', 'Deleting', 'Deleted', 'Failed'];

export const IdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export const CreateInstanceBody = {
  type: 'object',
  required: ['ownerId', 'layerKey'],
  additionalProperties: false,
  properties: {
    ownerId: { type: 'string', minLength: 1, maxLength: 200, description: 'Account the instance is for.' },
    ownerRole: {
      type: 'string',
      maxLength: 40,
      description: 'Role of the owner; `anonymous` owners have the idle TTL.',
    },
    sessionId: { type: 'string', maxLength: 200 },
    layerKey: { ...NullableKey, description: 'Layer to start from; null for a fresh template.' },
    preferInstanceId: {
      type: 'string',
      format: 'uuid',
      description: 'A pooled instance the caller already connected to; taken first if it is still pooled.',
    },
  },
} as const;

export const ConnectionInfoBody = {
  type: 'object',
  required: ['id', 'state', 'host', 'port', 'database', 'user', 'admin', 'layerKey', 'currentKey', 'source', 'readyMs'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: States },
    host: { type: 'string' },
    port: { type: 'integer' },
    database: { type: 'string' },
    user: { type: 'string' },
    admin: {
      type: 'object',
      required: ['user', 'password'],
      properties: { user: { type: 'string' }, password: { type: 'string' } },
    },
    layerKey: NullableKey,
    currentKey: NullableKey,
    source: { type: 'string', enum: ['pool', 'clone', 'template', 'resume'] },
    readyMs: { type: 'number', description: 'Milliseconds from the request to a connectable server.' },
  },
} as const;

export const InstanceBody = {
  type: 'object',
  required: ['id', 'state', 'host', 'port', 'database', 'user', 'layerKey', 'currentKey', 'pooled', 'createdAt'],
  properties: {
    id: { type: 'string' },
    ownerId: { type: ['string', 'null'] },
    sessionId: { type: ['string', 'null'] },
    state: { type: 'string', enum: States },
    host: { type: ['string', 'null'] },
    port: { type: ['integer', 'null'] },
    database: { type: 'string' },
    user: { type: 'string' },
    layerKey: NullableKey,
    currentKey: NullableKey,
    pooled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time' },
    suspendedAt: { type: ['string', 'null'] },
    transitions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['from', 'to', 'reason', 'at'],
        properties: {
          from: { type: ['string', 'null'] },
          to: { type: 'string' },
          reason: { type: 'string' },
          at: { type: 'string' },
        },
      },
    },
  },
} as const;

export const CreateLayerBody = {
  type: 'object',
  required: ['key', 'stepCount', 'buildMs'],
  additionalProperties: false,
  properties: {
    key: StateKey,
    parentKey: NullableKey,
    stepCount: { type: 'integer', minimum: 0 },
    buildMs: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
    pinned: { type: 'boolean' },
  },
} as const;

export const PatchInstanceBody = {
  type: 'object',
  required: ['currentKey'],
  additionalProperties: false,
  properties: { currentKey: StateKey },
} as const;

/** At most this many instances in one `POST /instances/touch`. */
export const MAX_USES_PER_BATCH = 1000;

export const TouchInstancesBody = {
  type: 'object',
  required: ['instances'],
  additionalProperties: false,
  properties: {
    instances: {
      type: 'array',
      maxItems: MAX_USES_PER_BATCH,
      items: {
        type: 'object',
        required: ['id'],
        additionalProperties: false,
        properties: { id: { type: 'string', format: 'uuid' }, currentKey: NullableKey },
      },
    },
  },
} as const;

export const TouchInstancesAnswer = {
  type: 'object',
  required: ['updated', 'notLive'],
  properties: {
    updated: { type: 'array', items: { type: 'string' } },
    notLive: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const PoolKeyParams = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { key: { type: 'string', pattern: '^([0-9a-f]{64}|template)$' } },
} as const;

export const PoolSizeBody = {
  type: 'object',
  required: ['size'],
  additionalProperties: false,
  properties: { size: { type: 'integer', minimum: 0, maximum: 10_000 } },
} as const;

export const PoolStatusBody = {
  type: 'object',
  required: ['key', 'size', 'instances'],
  properties: { key: { type: 'string' }, size: { type: 'integer' }, instances: { type: 'integer' } },
} as const;
