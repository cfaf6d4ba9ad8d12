import { fromLayer } from './from-layer.js';
import { keyPath, lookup } from './restore.js';
import type { StartStrategy } from './strategy.js';

/**
 * 5. K(tail) itself cached, as snapshot-cache answers: cloned (or taken from
 * the warm pool) without the key's lock, so clones of one layer proceed in
 * parallel. Passes when only a shallower layer, or none, is cached.
 */
export const cachedLayer: StartStrategy = {
  name: 'cached-layer',
  newInstance: true,
  async attempt(request) {
    const { deps, run, tail } = request;
    const path = keyPath(tail);
    const found = await lookup(deps, run, path);
    if (found.key === null || found.index !== path.length - 1) return undefined;
    return fromLayer(request, found, cachedLayer.name);
  },
};
