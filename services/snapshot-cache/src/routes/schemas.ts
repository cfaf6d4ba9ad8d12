import type { Layer } from '../store/layers.js';

// Plain JSON schemas: the snapshot-cache contract is internal (env-manager and
// sql-runner call it), so it is declared here rather than in @taidon/contracts.

/** A state key: sha256 of the SQL chain, 64 lowercase hex digits. */
export const StateKey = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
/** A volume id. */
export const VolumeId = { type: 'string', format: 'uuid' } as const;

export const KeyParams = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { key: StateKey },
} as const;

export const VolumeParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: VolumeId },
} as const;

export const LayerBody = {
  type: 'object',
  required: [
    'key',
    'parentKey',
    'stepCount',
    'buildMs',
    'sizeBytes',
    'hits',
    'pinned',
    'createdAt',
    'lastUsedAt',
    'liveClones',
  ],
  properties: {
    key: StateKey,
    parentKey: { anyOf: [StateKey, { type: 'null' }] },
    stepCount: { type: 'integer', description: 'Steps of the chain the layer covers.' },
    buildMs: { type: 'integer', description: 'Replay time the layer saves, in milliseconds.' },
    sizeBytes: { type: 'integer', description: 'Bytes the layer occupies (all it references).' },
    hits: { type: 'integer', description: 'Volumes cloned from it so far.' },
    pinned: { type: 'boolean', description: 'Pinned layers are never evicted.' },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time' },
    liveClones: { type: 'integer', description: 'Volumes cloned from it that still exist; it cannot go while > 0.' },
  },
} as const;

/** A layer as the API answers it (dates as ISO strings). */
export function layerBody(layer: Layer): Record<string, unknown> {
  return { ...layer, createdAt: layer.createdAt.toISOString(), lastUsedAt: layer.lastUsedAt.toISOString() };
}
