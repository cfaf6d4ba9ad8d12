import { fromLayer } from './from-layer.js';
import { keyPath, lookup } from './restore.js';
import type { StartStrategy } from './strategy.js';

/**
 * 6. The state built: the deepest cached layer on the tail's key path (a
 * fresh template when none is), then the rest of the tail replayed, with
 * layers taken at snapshotable points. Under the key's lock, so runs that
 * need the same missing state build it once; the lock is held only here,
 * and the lookup is made again once it is held, since the run it waited for
 * may have cached the state meanwhile. Always answers (or throws).
 */
export const buildState: StartStrategy = {
  name: 'build',
  newInstance: true,
  attempt(request) {
    const { deps, run, tail } = request;
    return deps.locks.withLock(tail.finalKey, async () =>
      fromLayer(request, await lookup(deps, run, keyPath(tail)), buildState.name),
    );
  },
};
