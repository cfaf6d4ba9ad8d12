import { buildState } from './build.js';
import { cachedLayer } from './cached-layer.js';
import { knownLayer } from './known-layer.js';
import { preparedConnection } from './prepared-connection.js';
import { sessionInstance } from './session-instance.js';
import type { StartState } from './start-state.js';
import type { StartRequest, StartStrategy } from './strategy.js';
import { templateReset } from './template-reset.js';

export { ReplayFailed } from './replay.js';
export type { StartFacts, StartState } from './start-state.js';
export { type SessionView, StartAborted, type StartRequest, type StartStrategy } from './strategy.js';

/**
 * How a run gets the state it starts from (ARCHITECTURE §3), in the order
 * tried; the first that answers wins. Every one answers the same StartState.
 *
 * 1. the session's instance, continued (a head alone) or already at K(tail);
 * 2. a reset of the session's instance to the layer it was started from,
 *    K(tail): its sandbox database recreated from its template database;
 * 3. a warm-pool instance at K(tail) with a learner connection opened ahead;
 * 4. a layer of K(tail) this runner saw cached: cloned without a lookup;
 * 5. K(tail) cached, as snapshot-cache answers: cloned, no lock;
 * 6. built under the key's lock: the deepest cached layer (or the template)
 *    plus a replay of the rest of the tail.
 *
 * So the session's instance at K(tail) wins over everything, and a layer at
 * K(tail) over any shallower one. A warm pool is never chosen against a
 * deeper layer: env-manager serves a clone of a layer from its pool when it
 * has one started at exactly that key (source `pool`), whichever strategy
 * asked for it.
 */
export const START_STRATEGIES: readonly StartStrategy[] = [
  sessionInstance,
  templateReset,
  preparedConnection,
  knownLayer,
  cachedLayer,
  buildState,
];

/**
 * The run's starting state, from the first strategy that answers.
 * `beforeNewInstance` runs once, before the first strategy that would start
 * a new instance (the run takes its instance slot there, ADR 0023).
 */
export async function obtainStartState(
  request: StartRequest,
  beforeNewInstance: () => Promise<void>,
): Promise<StartState> {
  let slotHeld = false;
  for (const strategy of START_STRATEGIES) {
    if (strategy.newInstance && !slotHeld) {
      await beforeNewInstance();
      slotHeld = true;
    }
    const state = await strategy.attempt(request);
    if (state) return state;
  }
  throw new Error('no start strategy answered; the last one always does');
}
