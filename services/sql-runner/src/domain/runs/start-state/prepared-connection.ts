import type { InstanceInfo } from '../../../clients/env-manager.js';
import { beginRestore, connectNew, countRestore, factsOf, keyPath, ownerOf } from './restore.js';
import type { StartStrategy } from './strategy.js';

/**
 * 3. A warm-pool instance at K(tail) this runner already holds a learner
 * connection to (prepared-connections.ts): one claim, no lookup (a pool
 * exists only for a cached key) and no connection set-up. Passes when there
 * is none or the claim fails.
 */
export const preparedConnection: StartStrategy = {
  name: 'prepared-connection',
  newInstance: true,
  async attempt(request) {
    const { deps, run, session, tail } = request;
    const prepared = deps.prepared?.take(tail.finalKey);
    if (!prepared) return undefined;
    const started = beginRestore(run);
    let instance: InstanceInfo;
    try {
      instance = await deps.envManager.create(
        { ...ownerOf(session), layerKey: tail.finalKey, preferInstanceId: prepared.instanceId },
        run.requestId,
      );
    } catch {
      void prepared.client.end().catch(() => {}); // the next strategies ask env-manager again, and fail there if they must
      return undefined;
    }
    // Another runner may have claimed that instance first: then this one got another, perhaps also prepared.
    const client = instance.id === prepared.instanceId ? prepared : deps.prepared?.takeInstance(instance.id);
    if (client !== prepared) void prepared.client.end().catch(() => {});
    const connection = await connectNew(request, instance, client?.broken ? undefined : client?.client);
    const path = keyPath(tail);
    countRestore(deps, path, path.length - 1);
    return {
      ...factsOf(instance, tail.finalKey, started),
      strategy: preparedConnection.name,
      instance,
      connection,
      key: tail.finalKey,
    };
  },
};
