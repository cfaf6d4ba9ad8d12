import { DomainError } from '@taidon/kit';
import { fromLayer } from './from-layer.js';
import { keyPath, LAYER_NOT_FOUND } from './restore.js';
import type { StartStrategy } from './strategy.js';

/**
 * 4. A layer of K(tail) this runner saw cached within the last minute
 * (known-layers.ts): cloned (or taken from the warm pool) without asking
 * snapshot-cache first. A layer evicted since passes, forgotten, and costs
 * one failed call, never a wrong state.
 */
export const knownLayer: StartStrategy = {
  name: 'known-layer',
  newInstance: true,
  async attempt(request) {
    const { deps, tail } = request;
    if (!deps.knownLayers?.has(tail.finalKey)) return undefined;
    try {
      return await fromLayer(request, { key: tail.finalKey, index: keyPath(tail).length - 1 }, knownLayer.name);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === LAYER_NOT_FOUND)) throw error;
      deps.knownLayers.forget(tail.finalKey);
      return undefined;
    }
  },
};
