import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { SnapshotCacheApi } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type { Logger } from 'pino';
import type { CloneStore } from './clones.js';

// The node agents (snapshot-cache as a DaemonSet on the fast-disk nodes):
// where they are, what each holds, and the clones they make. Layers are
// node-local, so an instance goes where an agent holds the deepest layer of
// its chain (ADR 0045); a node with no agent is never picked.

/** One node agent: the node it runs on and its base URL. */
export interface NodeAgent {
  node: string;
  url: string;
}

/** The agents env-manager knows now. */
export interface AgentDirectory {
  agents(): Promise<NodeAgent[]>;
}

/** The key env-manager writes in a TaidonInstance's `layerKey` when no agent holds a layer: an empty clone, replayed. */
export const EMPTY_CLONE_KEY = 'template';

/** Keys of a chain asked of each agent at most: the deepest ones (a lookup is one small request per agent). */
export const PLACEMENT_MAX_KEYS = 64;

/** Agents named once (SNAPSHOT_CACHE_AGENTS): tests and single nodes. */
export function staticAgents(agents: readonly NodeAgent[]): AgentDirectory {
  const list = [...agents];
  return { agents: async () => list };
}

/**
 * Agents found as Pods (in the platform namespace, by label): each Running and Ready one with a node and an IP is
 * the agent of its node. The list is read again when older than `refreshMs`, and kept (with a warning) when a
 * read fails, so a short API server outage places on the agents known last.
 */
export function podAgents(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  selector: string;
  port: number;
  logger: Logger;
  refreshMs?: number;
}): AgentDirectory {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const refreshMs = options.refreshMs ?? 10_000;
  let known: NodeAgent[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<NodeAgent[]> | undefined;
  async function read(): Promise<NodeAgent[]> {
    const pods = await core.listNamespacedPod({ namespace: options.namespace, labelSelector: options.selector });
    const agents: NodeAgent[] = [];
    for (const pod of pods.items) {
      const node = pod.spec?.nodeName;
      const ip = pod.status?.podIP;
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (!node || !ip || pod.status?.phase !== 'Running' || !ready || pod.metadata?.deletionTimestamp) continue;
      const host = ip.includes(':') ? `[${ip}]` : ip;
      agents.push({ node, url: `http://${host}:${options.port}` });
    }
    return agents.sort((a, b) => a.node.localeCompare(b.node));
  }
  return {
    async agents() {
      if (Date.now() - readAt < refreshMs) return known;
      reading ??= read()
        .then((agents) => {
          known = agents;
          readAt = Date.now();
          return agents;
        })
        .catch((error: unknown) => {
          options.logger.warn({ err: error }, 'could not list the node agents; using the last list');
          return known;
        })
        .finally(() => {
          reading = undefined;
        });
      return reading;
    },
  };
}

/** The calls env-manager makes to one agent (its internal API, with the service token). */
export interface AgentClient {
  lookup(agent: NodeAgent, keys: readonly string[]): Promise<SnapshotCacheApi.LookupResult>;
  createVolume(agent: NodeAgent, request: SnapshotCacheApi.CreateVolumeRequest): Promise<SnapshotCacheApi.Volume>;
  deleteVolume(agent: NodeAgent, id: string): Promise<void>;
  /** The volumes the agent records, made at least `olderThanSeconds` ago by its clock, oldest first. */
  listVolumes(agent: NodeAgent, olderThanSeconds: number): Promise<SnapshotCacheApi.VolumeEntry[]>;
  /** The agent's driver: whether its snapshots are atomic (a server may run on the volume while it is taken). */
  driver(agent: NodeAgent): Promise<SnapshotCacheApi.DriverInfo>;
  /** Takes the layer of `request.key` from a volume on that agent's disk; the agent holds it from then on. */
  createLayer(agent: NodeAgent, request: SnapshotCacheApi.CreateLayerRequest): Promise<SnapshotCacheApi.Layer>;
}

/**
 * `timeoutMs` bounds a clone or a free (a large layer on the copy driver takes a while); `lookupTimeoutMs` a
 * placement's lookup, which every create waits for: an agent slower than that is passed over, not waited for.
 */
export function createAgentClient(options: {
  serviceToken: string;
  timeoutMs?: number;
  lookupTimeoutMs?: number;
}): AgentClient {
  const endpoint = (agent: NodeAgent, timeoutMs = options.timeoutMs ?? 120_000): ServiceEndpoint => ({
    name: `snapshot-cache@${agent.node}`,
    baseUrl: agent.url,
    serviceToken: options.serviceToken,
    timeoutMs,
  });
  return {
    lookup: (agent, keys) =>
      callService<SnapshotCacheApi.LookupResult>(endpoint(agent, options.lookupTimeoutMs ?? 2_000), '/layers/lookup', {
        method: 'POST',
        body: { keys },
      }),
    createVolume: (agent, request) =>
      callService<SnapshotCacheApi.Volume>(endpoint(agent), '/volumes', { method: 'POST', body: request }),
    listVolumes: (agent, olderThanSeconds) =>
      callService<SnapshotCacheApi.VolumeEntry[]>(
        endpoint(agent, 10_000),
        `/volumes?olderThanSeconds=${Math.max(0, Math.ceil(olderThanSeconds))}`,
      ),
    driver: (agent) =>
      callService<SnapshotCacheApi.DriverInfo>(endpoint(agent, options.lookupTimeoutMs ?? 2_000), '/driver'),
    createLayer: (agent, request) =>
      callService<SnapshotCacheApi.Layer>(endpoint(agent), '/layers', { method: 'POST', body: request }),
    async deleteVolume(agent, id) {
      try {
        await callService<void>(endpoint(agent), `/volumes/${encodeURIComponent(id)}`, { method: 'DELETE' });
      } catch (error) {
        if (error instanceof DomainError && error.code === 'SNAPSHOT_CACHE_VOLUME_NOT_FOUND') return;
        throw error;
      }
    },
  };
}

/** Where an instance goes: the node, its agent, and the deepest key that agent holds (null: none, replayed). */
export interface Placement {
  node: string;
  agent: NodeAgent;
  layerKey: string | null;
  /** Index of that key in the keys asked (-1: none). */
  depth: number;
}

/**
 * Picks the node for a chain whose key path is `keys` (base first): among the agents on `nodes` (Ready and
 * schedulable), the one holding the deepest key; ties (and no layer anywhere) go to the fewest instances
 * (`load`), then the node's name. An agent that does not answer is passed over (logged); none on those nodes, or
 * none answering, is undefined.
 */
export async function placeOnAgents(input: {
  agents: readonly NodeAgent[];
  client: AgentClient;
  nodes: readonly string[];
  keys: readonly string[];
  load: ReadonlyMap<string, number>;
  logger?: Logger;
}): Promise<Placement | undefined> {
  const ready = new Set(input.nodes);
  const keys = input.keys.slice(-PLACEMENT_MAX_KEYS);
  const offset = input.keys.length - keys.length;
  const candidates = input.agents.filter((a) => ready.has(a.node));
  const answers = await Promise.all(
    candidates.map(async (agent) => {
      if (keys.length === 0) return { agent, depth: -1 };
      try {
        const found = await input.client.lookup(agent, keys);
        return { agent, depth: found.index };
      } catch (error) {
        input.logger?.warn({ err: error, node: agent.node }, 'node agent did not answer a lookup; not placing there');
        return undefined;
      }
    }),
  );
  let best: { agent: NodeAgent; depth: number } | undefined;
  const load = (node: string) => input.load.get(node) ?? 0;
  for (const answer of answers) {
    if (!answer) continue;
    if (
      !best ||
      answer.depth > best.depth ||
      (answer.depth === best.depth &&
        (load(answer.agent.node) < load(best.agent.node) ||
          (load(answer.agent.node) === load(best.agent.node) && answer.agent.node < best.agent.node)))
    ) {
      best = answer;
    }
  }
  if (!best) return undefined;
  return {
    node: best.agent.node,
    agent: best.agent,
    layerKey: best.depth >= 0 ? (keys[best.depth] ?? null) : null,
    depth: best.depth < 0 ? -1 : best.depth + offset,
  };
}

/**
 * The reconciler's clone store on the node agents: a clone is a volume of the node's agent named by the
 * instance's uid (so a retried create answers the same clone), from the layer (or empty for EMPTY_CLONE_KEY), and
 * is freed on whichever agent has it. `list` answers every agent's volumes (those older than asked, by the agent's
 * own clock): on a cluster every volume of an agent is an instance's clone, so one whose uid no TaidonInstance
 * carries is an orphan the reconciler's sweep frees (ADR 0051). An agent that does not answer is left out of that
 * sweep (logged), never taken for one with nothing.
 */
export function createAgentCloneStore(options: {
  directory: AgentDirectory;
  client: AgentClient;
  logger: Logger;
}): CloneStore {
  const { directory, client, logger } = options;
  async function agentOf(node: string): Promise<NodeAgent> {
    const agent = (await directory.agents()).find((a) => a.node === node);
    if (!agent) throw new Error(`no node agent on ${node}`);
    return agent;
  }
  return {
    async place(layerKey, nodes) {
      const placement = await placeOnAgents({
        agents: await directory.agents(),
        client,
        nodes,
        keys: layerKey === EMPTY_CLONE_KEY ? [] : [layerKey],
        load: new Map(),
        logger,
      });
      if (!placement) throw new Error('no node agent on a Ready node to place a clone on');
      return placement.node;
    },
    async create({ uid, layerKey, node }) {
      const agent = await agentOf(node);
      const volume = await client.createVolume(agent, {
        id: uid,
        ...(layerKey === EMPTY_CLONE_KEY ? {} : { fromLayerKey: layerKey }),
      });
      return { path: volume.path };
    },
    async free(uid) {
      const failures: unknown[] = [];
      for (const agent of await directory.agents()) {
        await client.deleteVolume(agent, uid).catch((error: unknown) => failures.push(error));
      }
      // A clone on an agent that did not answer is not freed yet: the finalizer's next round tries again.
      if (failures.length > 0) throw failures[0];
    },
    async list(options) {
      const olderThanSeconds = (options?.olderThanMs ?? 0) / 1000;
      const answers = await Promise.all(
        (await directory.agents()).map((agent) =>
          client.listVolumes(agent, olderThanSeconds).catch((error: unknown) => {
            logger.warn({ err: error, node: agent.node }, 'node agent did not list its volumes; not sweeping it now');
            return [];
          }),
        ),
      );
      return answers.flat().map((v) => v.id);
    },
  };
}
