import { DomainError } from '@taidon/kit';
import type { InstanceInfo } from '../../../clients/env-manager.js';
import { beginRestore, countRestore, keyPath } from './restore.js';
import type { StartStrategy } from './strategy.js';

/** env-manager's code for an instance that keeps no template database at the requested key. */
export const TEMPLATE_UNAVAILABLE = 'ENV_MANAGER_TEMPLATE_UNAVAILABLE';

/**
 * 2. A reset: the tail again on a session whose instance was started from
 * a layer of exactly K(tail). That instance keeps the layer's state as a
 * template database (ADR 0029), so env-manager recreates the sandbox
 * database from it (a reflink copy of its files) on the same server and
 * port, instead of a new server on a new clone. The learner's connection
 * is closed first (the reset ends every connection to the sandbox: the
 * learner's transaction goes, as it would with a new instance). Passes
 * when the instance was started from another key, when the runner holds no
 * connection to it, or when env-manager refuses (no template, the learner's
 * role changed since): the next strategies start a new instance as before.
 * Both of env-manager's runtimes offer it: `local`, and `kubernetes`, where
 * env-manager resets through the instance's Pod (an instance cloned on a node
 * whose agent has no atomic snapshots keeps no template, so it is refused).
 */
export const templateReset: StartStrategy = {
  name: 'template-reset',
  newInstance: false,
  async attempt(request) {
    const { deps, run, session, tail, continues } = request;
    if (continues || !session.instanceId) return undefined;
    const open = deps.connections.get(session.id, session.instanceId);
    if (!open || open.instance.layerKey !== tail.finalKey) return undefined;
    const started = beginRestore(run);
    await deps.connections.drop(session.id);
    let instance: InstanceInfo;
    try {
      instance = await deps.envManager.resetToTemplate(open.instanceId, tail.finalKey, run.requestId);
    } catch (error) {
      // No template at this key, or the instance gone, stopped or unreachable (or an env-manager too old to reset
      // on its runtime, 501): a miss, as a reset was before templates (the next strategies start a new instance).
      // Only a refusal of the request itself fails the run.
      if (error instanceof DomainError && error.code !== TEMPLATE_UNAVAILABLE && error.statusCode === 400) throw error;
      return undefined;
    }
    const connection = await deps.connections.open(session.id, instance);
    const path = keyPath(tail);
    countRestore(deps, path, path.length - 1);
    return {
      source: 'template-reset',
      warmPool: false,
      layerKey: tail.finalKey,
      stepsReplayed: 0,
      timings: { restoreMs: Math.round(performance.now() - started), replayMs: 0 },
      strategy: templateReset.name,
      instance,
      connection,
      key: tail.finalKey,
    };
  },
};
