import { type Static, Type } from 'typebox';
import { BatchRefusal } from './batch.js';
import { Layer, NullableStateKey, StateKey } from './snapshot-cache.js';

/**
 * env-manager's internal API (sql-runner and the gateway call it): sandbox
 * instances, their layers and the warm pool. Declared once here, used by its
 * routes through the TypeBox type provider and by its callers' clients.
 */

/** Life of an instance (ARCHITECTURE §5); Failed is reachable from every state. */
export const InstanceState = Type.Union([
  Type.Literal('Pending'),
  Type.Literal('Creating'),
  Type.Literal('Running'),
  Type.Literal('Suspended'),
  Type.Literal('Deleting'),
  Type.Literal('Deleted'),
  Type.Literal('Failed'),
]);
export type InstanceState = Static<typeof InstanceState>;

/** How an instance was obtained: taken from the warm pool, cloned from a layer, made from the template, resumed. */
export const InstanceSource = Type.Union([
  Type.Literal('pool'),
  Type.Literal('clone'),
  Type.Literal('template'),
  Type.Literal('resume'),
]);
export type InstanceSource = Static<typeof InstanceSource>;

/** Path parameters of an instance route. */
export const InstanceIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
export type InstanceIdParams = Static<typeof InstanceIdParams>;

/**
 * Owner role of a throwaway instance (sql-runner's clones for project tests and EXPLAIN, ADR 0031): never
 * suspended, and deleted INSTANCE_THROWAWAY_TTL_SECONDS after its creation if its runner has not deleted it.
 */
export const THROWAWAY_OWNER_ROLE = 'throwaway';

/** `POST /instances`: an instance for an owner, from a layer or the template. */
export const CreateInstanceRequest = Type.Object(
  {
    ownerId: Type.String({ minLength: 1, maxLength: 200, description: 'Account the instance is for.' }),
    ownerRole: Type.Optional(
      Type.String({ maxLength: 40, description: 'Role of the owner; `anonymous` owners have the idle TTL.' }),
    ),
    sessionId: Type.Optional(Type.String({ maxLength: 200 })),
    layerKey: Type.Union([StateKey, Type.Null()], { description: 'Layer to start from; null for a fresh template.' }),
    layerKeys: Type.Optional(
      Type.Array(StateKey, {
        maxItems: 64,
        description:
          "kubernetes runtime: the chain's key path, base first, deepest last (its last 64 keys at most). The instance goes to the node whose agent holds the deepest of them and is cloned from it (the answer's `layerKey`; null when no agent holds any: the least loaded agent's empty clone, replayed). Absent, `[layerKey]`. The local runtime ignores it.",
      }),
    ),
    preferInstanceId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'A pooled instance the caller already connected to; taken first if it is still pooled.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateInstanceRequest = Static<typeof CreateInstanceRequest>;

/** What a client needs to use an instance: where it listens, as whom, and how fast it came. */
export const InstanceInfo = Type.Object({
  id: Type.String(),
  state: InstanceState,
  host: Type.String(),
  port: Type.Integer(),
  database: Type.String(),
  user: Type.String(),
  admin: Type.Object({ user: Type.String(), password: Type.String() }),
  layerKey: NullableStateKey,
  currentKey: NullableStateKey,
  source: InstanceSource,
  readyMs: Type.Number({ description: 'Milliseconds from the request to a connectable server.' }),
});
export type InstanceInfo = Static<typeof InstanceInfo>;

/** Instances one `POST /instances/batch` may ask for: a grader's datasets of one attempt, with room to spare. */
export const MAX_INSTANCE_BATCH = 16;

/**
 * `POST /instances/batch`: several `POST /instances` of one caller in one round trip (a grader's clones of an
 * attempt's states, ADR 0056); the pooled instances they name in `preferInstanceId` are claimed together.
 */
export const CreateInstancesRequest = Type.Object(
  { instances: Type.Array(CreateInstanceRequest, { minItems: 1, maxItems: MAX_INSTANCE_BATCH }) },
  { additionalProperties: false },
);
export type CreateInstancesRequest = Static<typeof CreateInstancesRequest>;

/** `POST /instances/batch`'s answer: one per instance asked, in order, the instance or what `POST /instances` would have refused. */
export const CreateInstancesAnswer = Type.Object(
  {
    answers: Type.Array(
      Type.Union([
        Type.Object({ ok: Type.Literal(true), instance: InstanceInfo }, { additionalProperties: false }),
        BatchRefusal,
      ]),
    ),
  },
  { additionalProperties: false },
);
export type CreateInstancesAnswer = Static<typeof CreateInstancesAnswer>;

/** One change of an instance's state, with its reason. */
export const InstanceTransition = Type.Object({
  from: Type.Union([InstanceState, Type.Null()]),
  to: InstanceState,
  reason: Type.String(),
  at: Type.String(),
});
export type InstanceTransition = Static<typeof InstanceTransition>;

/** An instance as GET answers it: the record, without credentials, with its transitions when one is read. */
export const Instance = Type.Object({
  id: Type.String(),
  ownerId: Type.Union([Type.String(), Type.Null()]),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  state: InstanceState,
  host: Type.Union([Type.String(), Type.Null()]),
  port: Type.Union([Type.Integer(), Type.Null()]),
  database: Type.String(),
  user: Type.String(),
  layerKey: NullableStateKey,
  currentKey: NullableStateKey,
  pooled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  suspendedAt: Type.Union([Type.String(), Type.Null()]),
  transitions: Type.Optional(Type.Array(InstanceTransition)),
});
export type Instance = Static<typeof Instance>;

/** `GET /instances`: an owner's instances. */
export const InstanceListQuery = Type.Object(
  { ownerId: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);
export type InstanceListQuery = Static<typeof InstanceListQuery>;

/** `POST /instances/:id/layers`: take a layer of the instance's data under `key`. */
export const SnapshotRequest = Type.Object(
  {
    key: StateKey,
    parentKey: Type.Optional(NullableStateKey),
    stepCount: Type.Integer({ minimum: 0 }),
    buildMs: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    pinned: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SnapshotRequest = Static<typeof SnapshotRequest>;

/** What a snapshot made: the layer, and the instance after it (a copy-driver snapshot restarts the server). */
export const SnapshotResult = Type.Object({
  layer: Layer,
  snapshotMs: Type.Number(),
  instance: Instance,
});
export type SnapshotResult = Static<typeof SnapshotResult>;

/**
 * `POST /instances/:id/reset`: recreate the sandbox database from the instance's template database, which
 * must be at `key` (ADR 0029); answers the instance (same server, same port), or 409
 * ENV_MANAGER_TEMPLATE_UNAVAILABLE with nothing changed.
 */
export const ResetRequest = Type.Object({ key: StateKey }, { additionalProperties: false });
export type ResetRequest = Static<typeof ResetRequest>;

/** `PATCH /instances/:id`: the state key the runner says the instance is at. */
export const SetKeyRequest = Type.Object({ currentKey: StateKey }, { additionalProperties: false });
export type SetKeyRequest = Static<typeof SetKeyRequest>;

/** At most this many instances in one `POST /instances/touch`. */
export const MAX_USES_PER_BATCH = 1000;

/** `POST /instances/touch`: every instance a runner used since its last call, each with its new key if any. */
export const TouchInstancesRequest = Type.Object(
  {
    instances: Type.Array(
      Type.Object(
        { id: Type.String({ format: 'uuid' }), currentKey: Type.Optional(NullableStateKey) },
        { additionalProperties: false },
      ),
      { maxItems: MAX_USES_PER_BATCH },
    ),
  },
  { additionalProperties: false },
);
export type TouchInstancesRequest = Static<typeof TouchInstancesRequest>;

/** Which instances were marked used, and which were no longer Running or Suspended. */
export const TouchInstancesAnswer = Type.Object({
  updated: Type.Array(Type.String()),
  notLive: Type.Array(Type.String()),
});
export type TouchInstancesAnswer = Static<typeof TouchInstancesAnswer>;

/** Path parameters of a warm pool: a layer key, or `template` for fresh templates. */
export const PoolKeyParams = Type.Object(
  { key: Type.String({ pattern: '^([0-9a-f]{64}|template)$' }) },
  { additionalProperties: false },
);
export type PoolKeyParams = Static<typeof PoolKeyParams>;

/** `PUT /warm-pool/:key`: how many started, untouched instances to keep ready (0 withdraws the demand). */
export const PoolSizeRequest = Type.Object(
  { size: Type.Integer({ minimum: 0, maximum: 10_000 }) },
  { additionalProperties: false },
);
export type PoolSizeRequest = Static<typeof PoolSizeRequest>;

/** Demand and supply of one pool key. */
export const PoolStatus = Type.Object({
  key: Type.String(),
  size: Type.Integer(),
  instances: Type.Integer({ description: 'Pooled instances starting or ready now.' }),
});
export type PoolStatus = Static<typeof PoolStatus>;

/** `GET /warm-pool/instances`: the oldest `perKey` ready instances of each pool (query values stay strings). */
export const PooledInstancesQuery = Type.Object(
  { perKey: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })) },
  { additionalProperties: false },
);
export type PooledInstancesQuery = Static<typeof PooledInstancesQuery>;

/** A started, unclaimed warm-pool instance; `poolKey` is the layer key it serves (`template` for templates). */
export const PooledInstance = Type.Object({
  ...Instance.properties,
  poolKey: Type.Union([Type.String(), Type.Null()]),
});
export type PooledInstance = Static<typeof PooledInstance>;

/** `GET /engine`: the template identity sql-runner puts in its base state key. */
export const EngineInfo = Type.Object({
  engine: Type.String(),
  version: Type.String({ description: 'Server version, e.g. "18.4".' }),
  templateVersion: Type.Integer(),
  database: Type.String(),
  user: Type.String(),
  settings: Type.Record(Type.String(), Type.String()),
});
export type EngineInfo = Static<typeof EngineInfo>;
