import type { InstanceInfo } from '../../clients/env-manager.js';
import type { Chain } from '../chain/index.js';
import type { RunnerDeps, RunState } from './context.js';
import type { PreparedState, SessionView } from './state.js';

/** Who a new instance is for, as env-manager records it. */
export const ownerOf = (session: SessionView) => ({
  ownerId: session.ownerId,
  sessionId: session.id,
  ...(session.ownerRole ? { ownerRole: session.ownerRole } : {}),
});

/**
 * The state from a warm-pool instance this runner already holds a learner
 * connection to: one claim, no lookup (a pool exists only for a cached key)
 * and no connection set-up. Undefined when there is none or the claim fails,
 * and the caller goes the usual way.
 */
export async function fromPreparedConnection(
  deps: RunnerDeps,
  run: RunState,
  session: SessionView,
  tail: Chain,
): Promise<PreparedState | undefined> {
  const prepared = deps.prepared?.take(tail.finalKey);
  if (!prepared) return undefined;
  const started = performance.now();
  run.phase = 'restore';
  run.emit({ type: 'progress', phase: 'restore' });
  let instance: InstanceInfo;
  try {
    instance = await deps.envManager.create(
      { ...ownerOf(session), layerKey: tail.finalKey, preferInstanceId: prepared.instanceId },
      run.requestId,
    );
  } catch {
    void prepared.client.end().catch(() => {});
    return undefined;
  }
  // Another runner may have claimed that instance first: then this one got another, perhaps also prepared.
  const client = instance.id === prepared.instanceId ? prepared : deps.prepared?.takeInstance(instance.id);
  if (client !== prepared) void prepared.client.end().catch(() => {});
  const connection = await deps.connections.open(session.id, instance, client?.broken ? undefined : client?.client);
  deps.metrics?.cacheLookups.inc({ result: 'hit' });
  deps.metrics?.cacheHitDepth.observe(tail.steps.length);
  run.source = instance.source === 'resume' ? 'session' : instance.source;
  run.warmPool = instance.source === 'pool';
  run.layerKey = tail.finalKey;
  run.timings.restoreMs = Math.round(performance.now() - started);
  return { instance, connection, key: tail.finalKey };
}
