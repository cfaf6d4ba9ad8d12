import { type Static, Type } from 'typebox';

/**
 * snapshot-cache's internal API (env-manager and sql-runner call it): layers,
 * the read-only snapshots of a state, and volumes, the writable directories
 * cloned from them. Declared once here, used by its routes and its callers.
 */

/** The form of a state key: sha256 of an SQL chain, 64 lowercase hex digits. */
export const STATE_KEY_PATTERN = '^[0-9a-f]{64}$';
/** A state key. */
export const StateKey = Type.String({ pattern: STATE_KEY_PATTERN });
/** A state key, or null where there is none (a fresh template, a base layer). */
export const NullableStateKey = Type.Union([StateKey, Type.Null()]);

/** Path parameters of a layer route. */
export const LayerKeyParams = Type.Object({ key: StateKey }, { additionalProperties: false });
export type LayerKeyParams = Static<typeof LayerKeyParams>;

/** Path parameters of a volume route. */
export const VolumeIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
export type VolumeIdParams = Static<typeof VolumeIdParams>;

/** The storage driver that serves, so env-manager knows whether a snapshot must stop the server. */
export const DriverInfo = Type.Object({
  name: Type.String(),
  atomicSnapshot: Type.Boolean({ description: 'false: the server must be stopped while its volume is snapshotted.' }),
  rootDir: Type.String({ description: 'Holds `volumes/` and `layers/`; servers on paths below it are ours.' }),
});
export type DriverInfo = Static<typeof DriverInfo>;

/** A layer as snapshot-cache answers it (dates as ISO strings). */
export const Layer = Type.Object({
  key: StateKey,
  parentKey: NullableStateKey,
  stepCount: Type.Integer({ description: 'Steps of the chain the layer covers.' }),
  buildMs: Type.Integer({ description: 'Replay time the layer saves, in milliseconds.' }),
  sizeBytes: Type.Integer({ description: 'Bytes the layer occupies (all it references).' }),
  hits: Type.Integer({ description: 'Volumes cloned from it so far.' }),
  pinned: Type.Boolean({ description: 'Pinned layers are never evicted.' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  liveClones: Type.Integer({ description: 'Volumes cloned from it that still exist; it cannot go while > 0.' }),
});
export type Layer = Static<typeof Layer>;

/** `POST /layers`: snapshot a volume into the layer of `key` (an existing layer of the key is answered as is). */
export const CreateLayerRequest = Type.Object(
  {
    key: StateKey,
    parentKey: Type.Optional(NullableStateKey),
    volumeId: Type.String({ format: 'uuid' }),
    stepCount: Type.Integer({ minimum: 0 }),
    buildMs: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    pinned: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateLayerRequest = Static<typeof CreateLayerRequest>;

/** Keys one lookup may carry: a chain's key path, base key first. */
export const LOOKUP_MAX_KEYS = 100_000;

/** `POST /layers/lookup`: which keys of a chain's key path have a layer. */
export const LookupRequest = Type.Object(
  { keys: Type.Array(StateKey, { maxItems: LOOKUP_MAX_KEYS }) },
  { additionalProperties: false },
);
export type LookupRequest = Static<typeof LookupRequest>;

/** What a lookup answers: the deepest cached key and its index (-1 when none), and every cached index. */
export const LookupResult = Type.Object({
  key: NullableStateKey,
  index: Type.Integer(),
  cached: Type.Array(Type.Integer()),
});
export type LookupResult = Static<typeof LookupResult>;

/** What one eviction pass removed, and the bytes the layers still take. */
export const EvictionResult = Type.Object({ evicted: Type.Array(StateKey), totalBytes: Type.Integer() });
export type EvictionResult = Static<typeof EvictionResult>;

/** `POST /volumes`: an empty volume, or a clone of a layer. */
export const CreateVolumeRequest = Type.Object(
  {
    fromLayerKey: Type.Optional(
      Type.String({ pattern: STATE_KEY_PATTERN, description: 'Clone this layer; omit for an empty volume.' }),
    ),
    sizeLimitBytes: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Cap on what the volume writes (btrfs qgroups).' }),
    ),
    id: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          "The volume's id, chosen by the caller (env-manager's kubernetes runtime names a clone by its instance's uid); a volume of this id already there is answered as it is, so a retried create makes no second one. Omit for a new id.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateVolumeRequest = Static<typeof CreateVolumeRequest>;

/** A writable volume: an empty data directory, or a clone of a layer. */
export const Volume = Type.Object({
  id: Type.String({ format: 'uuid' }),
  path: Type.String(),
  layerKey: NullableStateKey,
});
export type Volume = Static<typeof Volume>;

/** Volumes one `GET /volumes` answers at most (oldest first; a caller wanting more asks again once it freed some). */
export const VOLUME_LIST_MAX = 10_000;

/** `GET /volumes`: the recorded volumes, oldest first (query values stay strings). */
export const ListVolumesQuery = Type.Object(
  {
    olderThanSeconds: Type.Optional(
      Type.String({
        pattern: '^(0|[1-9][0-9]{0,7})$',
        description:
          "Only volumes recorded at least this many seconds ago, by the agent's database clock (env-manager's orphan sweep leaves younger ones alone: a clone being made now). Default 0.",
      }),
    ),
    limit: Type.Optional(
      Type.String({
        pattern: '^([1-9][0-9]{0,3}|10000)$',
        description: `At most this many, up to ${VOLUME_LIST_MAX} (the default).`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListVolumesQuery = Static<typeof ListVolumesQuery>;

/** One recorded volume, as `GET /volumes` lists it. */
export const VolumeEntry = Type.Object({
  id: Type.String({ format: 'uuid' }),
  layerKey: NullableStateKey,
  createdAt: Type.String({ format: 'date-time' }),
});
export type VolumeEntry = Static<typeof VolumeEntry>;
