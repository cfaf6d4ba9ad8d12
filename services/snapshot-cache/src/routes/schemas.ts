import type { SnapshotCacheApi } from '@taidon/contracts';
import type { Layer } from '../store/layers.js';

/** A layer as the API answers it (dates as ISO strings); the shape is the contract's `Layer`. */
export function layerBody(layer: Layer): SnapshotCacheApi.Layer {
  return { ...layer, createdAt: layer.createdAt.toISOString(), lastUsedAt: layer.lastUsedAt.toISOString() };
}
