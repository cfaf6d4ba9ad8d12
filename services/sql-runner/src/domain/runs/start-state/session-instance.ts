import type { StartState } from './start-state.js';
import type { StartRequest, StartStrategy } from './strategy.js';

/** Facts of a state the session already had: nothing restored, nothing replayed. */
const SESSION_FACTS = { source: 'session', warmPool: false, layerKey: null, stepsReplayed: 0 } as const;

/**
 * 1. The session's own instance: continued as it is for a head alone
 * (whatever its state, even an aborted transaction the learner is about to
 * roll back), or when it is already at K(tail). Its open connection when
 * there is one, else the instance resumed and connected. Gone or broken,
 * it passes: a head alone is told, and starts from the empty database.
 */
export const sessionInstance: StartStrategy = {
  name: 'session-instance',
  newInstance: false,
  async attempt(request) {
    const { session, tail, continues, run } = request;
    if (!session.instanceId) return undefined;
    if (!continues && session.currentKey !== tail.finalKey) return undefined;
    const state = await reuse(request, session.instanceId);
    if (!state && continues) {
      run.emit({
        type: 'notice',
        severity: 'NOTICE',
        message: 'Your previous instance is gone; this run starts from an empty database.',
      });
    }
    return state;
  },
};

async function reuse(request: StartRequest, instanceId: string): Promise<StartState | undefined> {
  const { deps, run, session } = request;
  const started = performance.now();
  const state = (instance: StartState['instance'], connection: StartState['connection']): StartState => ({
    ...SESSION_FACTS,
    strategy: sessionInstance.name,
    timings: { restoreMs: Math.round(performance.now() - started), replayMs: 0 },
    instance,
    connection,
    key: session.currentKey,
  });
  const open = deps.connections.get(session.id, instanceId);
  if (open) return state(open.instance, open);
  try {
    const ready = await deps.envManager.resume(instanceId, run.requestId);
    return state(ready, await deps.connections.open(session.id, ready));
  } catch {
    return undefined; // gone or broken: the next strategies restore, like any other miss
  }
}
