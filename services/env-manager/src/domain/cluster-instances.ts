import { randomUUID } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Layer } from '../clients/snapshot-cache.js';
import { checkpointForLayer } from '../engine/checkpoint.js';
import { SANDBOX_ADMIN_USER, SANDBOX_DATABASE, SANDBOX_USER } from '../engine/template.js';
import { keepTemplateDatabase, resetFromTemplate, SandboxDroppedError } from '../engine/template-database.js';
import {
  CreationAbandonedError,
  EnvManagerError,
  InvalidStateError,
  NoNodeAgentError,
  ShuttingDownError,
  SnapshotFailedError,
  TemplateUnavailableError,
} from '../errors.js';
import type { EnvManagerMetrics } from '../metrics.js';
import {
  type AgentClient,
  type AgentDirectory,
  EMPTY_CLONE_KEY,
  PLACEMENT_MAX_KEYS,
  placeOnAgents,
} from '../runtimes/kubernetes/agents.js';
import { LAST_USED_ANNOTATION, type TaidonInstance } from '../runtimes/kubernetes/types.js';
import type { KubernetesInstanceView, KubernetesRuntime } from '../runtimes/kubernetes.js';
import { type ConnectionInfo, type CreateInstanceInput, type InstanceView, TEMPLATE_POOL_KEY } from './instances.js';
import { KeyedLock } from './keyed-lock.js';
import type { InstanceState } from './states.js';
import type { PoolSupply } from './warm-pool.js';

/** What the platform keeps on a TaidonInstance, so the resource is the instance's whole record in a cluster. */
export const OWNER_ANNOTATION = 'taidon.dev/owner-id';
export const OWNER_ROLE_ANNOTATION = 'taidon.dev/owner-role';
export const SESSION_ANNOTATION = 'taidon.dev/session-id';
export const CURRENT_KEY_ANNOTATION = 'taidon.dev/current-key';
/** On the resource, so instances per node are counted by selector. */
export const NODE_LABEL = 'taidon.dev/node';
/**
 * On a warm pool's instance until a claim takes it: `starting` from its create until its template database is
 * kept, then `true`, the only value a claim takes or GET /warm-pool/instances lists. The pool counts and sweeps
 * its own by the label's existence (both values), and an operator sees them (`kubectl get taidoninstances -l
 * taidon.dev/pooled`, the Pooled column). A label, not a spec field: the API server selects by labels, and a
 * claim's write removes it.
 */
export const POOLED_LABEL = 'taidon.dev/pooled';
/** The pooled label's value while the instance is not claimable yet (its template database not kept). */
export const POOLED_STARTING = 'starting';
/** The pool key of a pooled instance (a layer key or `template`: 64 hex digits do not fit a label's 63). */
export const POOL_KEY_ANNOTATION = 'taidon.dev/pool-key';

const STATE_KEY = /^[0-9a-f]{64}$/;

/** One connection attempt to a sandbox's server (an address that drops packets must not hold a request). */
const ADMIN_CONNECT_TIMEOUT_MS = 5_000;

/** A connection refused because the server is not up yet (or no longer), as opposed to one refused for good. */
function notUpYet(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '57P03' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

export interface ClusterInstanceDeps {
  runtime: KubernetesRuntime;
  kubeConfig: KubeConfig;
  agents: AgentDirectory;
  agentClient: AgentClient;
  metrics: EnvManagerMetrics;
  logger: Logger;
  adminPassword: string;
  startTimeoutMs: number;
  /**
   * How long a new instance's server may refuse the admin connection once its Pod is Ready (the readiness probe
   * is a TCP connect, which a postmaster still replaying the WAL of a crash-consistent layer (ADR 0049) passes
   * while it answers 57P03 "starting up"); past it the instance serves without a template database.
   */
  templateWaitMs: number;
  /** TTLs written on the resource (the reconciler deletes what is unused that long): anonymous and throwaway owners. */
  idleTtlSeconds: number;
  throwawayTtlSeconds: number;
}

/**
 * env-manager's instances on a cluster (ENV_MANAGER_RUNTIME=kubernetes): each
 * is a TaidonInstance, which is its whole record (owner, session and current
 * key are annotations on it; `kubectl get taidoninstances` shows what the
 * platform shows). A create places the instance on the node whose agent holds
 * the deepest layer of its chain and writes that node in the spec before
 * anything is cloned; the reconciler (in whichever replica holds the Lease)
 * makes the clone there, its volume and its Pod.
 */
export class ClusterInstanceManager {
  /** Instances with an operation in flight in this replica: a reset, a layer, a suspend never overlap on one. */
  readonly busy = new KeyedLock();
  private readonly core: CoreV1Api;
  /** Per node agent (by URL): whether its snapshots are atomic, asked once. */
  private readonly atomic = new Map<string, Promise<boolean>>();
  private closing = false;
  /** The warm pool's hooks, once buildApp made it (attachPool): a take asks for a refill, a key nobody pools skips the claim. */
  private poolHooks: { onTake(key: string): void; mayHave(key: string): boolean } | undefined;

  constructor(private readonly deps: ClusterInstanceDeps) {
    this.core = deps.kubeConfig.makeApiClient(CoreV1Api);
  }

  close(): void {
    this.closing = true;
  }

  /** Connects the warm pool (domain/warm-pool.ts), whose supply this manager is (poolSupply). */
  attachPool(hooks: { onTake(key: string): void; mayHave(key: string): boolean }): void {
    this.poolHooks = hooks;
  }

  /**
   * A Ready pooled instance of the key for the learner (ADR 0012, 0044), else a new one: placed, its resource
   * written with its node, and waited for until its Pod is Ready. A claim that fails (the API server refusing or
   * not answering its list or write) is logged and the learner gets a new instance, as when no pooled one is
   * free: the pool is a shortcut, never a reason to refuse. `signal` means the caller gave up: before Ready, the
   * resource is deleted (its finalizer frees the clone) and nothing starts for nobody.
   */
  async create(input: CreateInstanceInput & { layerKeys?: string[] }, signal?: AbortSignal): Promise<ConnectionInfo> {
    const started = performance.now();
    if (this.closing) throw new ShuttingDownError();
    const poolKey = input.layerKey ?? TEMPLATE_POOL_KEY;
    if (input.preferInstanceId || (this.poolHooks?.mayHave(poolKey) ?? false)) {
      let taken: KubernetesInstanceView | undefined;
      try {
        taken = await this.claim(poolKey, input);
      } catch (error) {
        this.deps.logger.warn({ err: error, poolKey }, 'pooled instance not claimed: a new instance is made instead');
      }
      if (taken) {
        this.poolHooks?.onTake(poolKey);
        const readyMs = performance.now() - started;
        this.deps.metrics.readySeconds.observe({ source: 'pool' }, readyMs / 1000);
        return this.connection(taken, 'pool', readyMs);
      }
    }
    return this.createNew(input, signal);
  }

  /**
   * Hands the oldest Ready pooled instance of `poolKey` (the one the caller names first, if it is still pooled)
   * to the owner: one write, conditional on the version read, that removes the pooled label and writes the owner,
   * the session and the owner's TTL. A claim racing it, the pool retiring it, or the reconciler's status write in
   * between makes the write fail with 409; the instance is then read again and taken only if it is still pooled and
   * Ready, so each pooled instance is handed out once (what `FOR UPDATE SKIP LOCKED` is to the local claim). A write
   * that fails otherwise may still have been applied (a timeout, a connection lost after the request went): the
   * instance is read again, and it is this claim's if it carries this owner and this claim's time of last use;
   * else the error is thrown and the caller makes a new instance.
   */
  private async claim(poolKey: string, input: CreateInstanceInput): Promise<KubernetesInstanceView | undefined> {
    const candidates = (await this.pooledReady(poolKey)).sort(
      (a, b) =>
        Number(b.instanceId === input.preferInstanceId) - Number(a.instanceId === input.preferInstanceId) ||
        String(a.createdAt).localeCompare(String(b.createdAt)),
    );
    const role = input.ownerRole ?? null;
    const ttl = this.ttlOf(role);
    // Written as the last use, and how a write whose answer was lost is recognised as this claim's.
    const claimedAt = new Date().toISOString();
    for (const candidate of candidates) {
      const take = (i: TaidonInstance) => {
        if (!isPooledReady(i, poolKey)) return false;
        const labels = { ...i.metadata.labels };
        delete labels[POOLED_LABEL];
        i.metadata.labels = labels;
        const annotations: Record<string, string> = {
          ...i.metadata.annotations,
          [OWNER_ANNOTATION]: input.ownerId,
          [LAST_USED_ANNOTATION]: claimedAt,
        };
        delete annotations[POOL_KEY_ANNOTATION];
        if (role) annotations[OWNER_ROLE_ANNOTATION] = role;
        if (input.sessionId) annotations[SESSION_ANNOTATION] = input.sessionId;
        i.metadata.annotations = annotations;
        if (ttl) i.spec.ttlSeconds = ttl;
        return true;
      };
      let taken: KubernetesInstanceView | undefined;
      try {
        taken = await this.deps.runtime.updateIf(candidate.instanceId, take);
      } catch (error) {
        // Unreadable too: taken as not this claim's; the caller's new instance serves the learner either way.
        const now = await this.deps.runtime.get(candidate.instanceId).catch(() => undefined);
        const mine =
          now?.annotations[OWNER_ANNOTATION] === input.ownerId && now.annotations[LAST_USED_ANNOTATION] === claimedAt;
        if (!mine) throw error;
        taken = now;
      }
      if (taken) {
        this.deps.logger.info({ instanceId: taken.instanceId, poolKey }, 'pooled instance claimed');
        return taken;
      }
    }
    return undefined;
  }

  /** Pooled instances of `poolKey` (of every pool when null) that a claim may take: Ready, not being deleted. */
  private async pooledReady(poolKey: string | null): Promise<KubernetesInstanceView[]> {
    return (await this.deps.runtime.list(`${POOLED_LABEL}=true`)).filter(
      (i) =>
        !i.deleting &&
        i.ready &&
        i.endpoint !== undefined &&
        (poolKey === null || i.annotations[POOL_KEY_ANNOTATION] === poolKey),
    );
  }

  /**
   * Ready pooled instances of every pool (the `perKey` oldest of each, when given), without credentials: a runner
   * connects to them ahead of a claim (ADR 0052), at the Pod's address.
   */
  async pooled(perKey?: number): Promise<(InstanceView & { poolKey: string | null })[]> {
    const ready = (await this.pooledReady(null)).sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    const seen = new Map<string, number>();
    const out: (InstanceView & { poolKey: string | null })[] = [];
    for (const i of ready) {
      const key = i.annotations[POOL_KEY_ANNOTATION] ?? '';
      const nth = (seen.get(key) ?? 0) + 1;
      seen.set(key, nth);
      if (perKey === undefined || nth <= perKey) out.push({ ...this.view(i), poolKey: key });
    }
    return out;
  }

  /**
   * The warm pool's supply on a cluster (domain/warm-pool.ts): pooled instances are TaidonInstances labelled
   * pooled, started through the same placement and Pod as a learner's, counted and retired by selector.
   */
  poolSupply(): PoolSupply {
    return {
      counts: async () => {
        const counts: Record<string, number> = {};
        // Starting ones too, so a pass (or a new leader's) does not start them again.
        for (const i of await this.deps.runtime.list(POOLED_LABEL)) {
          const key = i.annotations[POOL_KEY_ANNOTATION];
          if (i.deleting || !key || i.state === 'Failed') continue;
          counts[key] = (counts[key] ?? 0) + 1;
        }
        return counts;
      },
      start: async (key) => {
        await this.createNew({ ownerId: '', layerKey: key === TEMPLATE_POOL_KEY ? null : key }, undefined, key);
      },
      retire: async (key, limit, reason) => {
        const ready = (await this.pooledReady(key)).sort((a, b) =>
          String(a.createdAt).localeCompare(String(b.createdAt)),
        );
        let retired = 0;
        for (const i of ready) {
          if (retired >= limit) break;
          const poolKey = i.annotations[POOL_KEY_ANNOTATION] ?? '';
          if (await this.deps.runtime.deleteIf(i.instanceId, (current) => isPooledReady(current, poolKey))) {
            retired += 1;
            this.deps.logger.info({ instanceId: i.instanceId, poolKey, reason }, 'pooled instance retired');
          }
        }
        return retired;
      },
      // A pooled instance not Ready (or still starting: its template not kept) past the start timeout: its start
      // gave up (and deleted it) or its starter died meanwhile (a replica that lost the Lease and its process);
      // nobody else would ever delete it. Failed ones too.
      sweep: async () => {
        const stale = (i: KubernetesInstanceView) =>
          i.state === 'Failed' ||
          ((!i.ready || i.labels[POOLED_LABEL] === POOLED_STARTING) &&
            Date.now() - new Date(i.createdAt ?? 0).getTime() > this.deps.startTimeoutMs * 2);
        let swept = 0;
        for (const i of await this.deps.runtime.list(POOLED_LABEL)) {
          if (i.deleting || !stale(i)) continue;
          const gone = await this.deps.runtime.deleteIf(
            i.instanceId,
            (current) =>
              current.metadata.labels?.[POOLED_LABEL] !== undefined && stale(this.deps.runtime.viewOf(current)),
          );
          if (gone) {
            swept += 1;
            this.deps.logger.warn({ instanceId: i.instanceId, state: i.state }, 'pooled instance never ready: deleted');
          }
        }
        return swept;
      },
    };
  }

  /** The TTL written on a new or claimed instance of an owner of `role`; none for others (and for the pool's). */
  private ttlOf(role: string | null): number | undefined {
    if (role === 'throwaway') return this.deps.throwawayTtlSeconds;
    if (role === 'anonymous') return this.deps.idleTtlSeconds;
    return undefined;
  }

  /**
   * A new instance: placed, written, waited for until Ready, its template database kept. With `poolKey`, it is the
   * warm pool's (no owner) and must hold that key's state: placed where no agent holds its layer, it is not made
   * (the pool tries again at its next pass) rather than made empty. It is labelled pooled `starting` until its
   * template is kept, then `true`, so no claim takes it (nor a runner connects to it) before: a learner on it would
   * be connected to the sandbox database while keepTemplate copies it, as the local runtime keeps it before Running.
   */
  private async createNew(
    input: CreateInstanceInput & { layerKeys?: string[] },
    signal?: AbortSignal,
    poolKey?: string,
  ): Promise<ConnectionInfo> {
    const started = performance.now();
    if (this.closing) throw new ShuttingDownError();
    const keys = (input.layerKeys ?? (input.layerKey ? [input.layerKey] : [])).slice(-PLACEMENT_MAX_KEYS);
    const [agents, nodes, load] = await Promise.all([
      this.deps.agents.agents(),
      this.readyNodes(),
      this.instancesPerNode(),
    ]);
    const placement = await placeOnAgents({
      agents,
      client: this.deps.agentClient,
      nodes,
      keys,
      load,
      logger: this.deps.logger,
    });
    if (!placement) throw new NoNodeAgentError(nodes.length, agents.length);
    if (poolKey !== undefined && (placement.layerKey ?? null) !== input.layerKey) {
      throw new Error(`no node agent holds layer ${input.layerKey}: its pooled instance waits for one`);
    }
    if (signal?.aborted) throw new CreationAbandonedError();
    const id = randomUUID();
    const role = input.ownerRole ?? null;
    const ttl = this.ttlOf(role);
    const annotations: Record<string, string> = {};
    if (poolKey === undefined) annotations[OWNER_ANNOTATION] = input.ownerId;
    else annotations[POOL_KEY_ANNOTATION] = poolKey;
    if (role) annotations[OWNER_ROLE_ANNOTATION] = role;
    if (input.sessionId) annotations[SESSION_ANNOTATION] = input.sessionId;
    if (placement.layerKey) annotations[CURRENT_KEY_ANNOTATION] = placement.layerKey;
    const labels: Record<string, string> = { [NODE_LABEL]: placement.node };
    if (poolKey !== undefined) labels[POOLED_LABEL] = POOLED_STARTING;
    this.deps.logger.info(
      {
        instanceId: id,
        node: placement.node,
        layerKey: placement.layerKey,
        depth: placement.depth,
        asked: keys.length,
        ...(poolKey === undefined ? {} : { poolKey }),
      },
      'instance placed',
    );
    const ready = await this.deps.runtime.start(
      {
        instanceId: id,
        layerKey: placement.layerKey ?? EMPTY_CLONE_KEY,
        node: placement.node,
        annotations,
        labels,
        ...(ttl ? { ttlSeconds: ttl } : {}),
      },
      this.deps.startTimeoutMs,
      signal,
    );
    // Before anyone has the instance (a learner's is not answered yet, a pooled one not claimable yet), so nobody is
    // connected to its sandbox database.
    if (placement.layerKey) await this.keepTemplate(ready, placement.layerKey);
    if (poolKey !== undefined) await this.offerPooled(id);
    const source = placement.layerKey ? 'clone' : 'template';
    const readyMs = performance.now() - started;
    // A learner's wait; a pooled instance's start is nobody's (its claim is observed as `pool`).
    if (poolKey === undefined) this.deps.metrics.readySeconds.observe({ source }, readyMs / 1000);
    return this.connection(ready, source, readyMs);
  }

  /**
   * Makes a started pooled instance claimable (`starting` to `true`), by a write conditional on the version read.
   * One that is gone or changed meanwhile (swept, deleted) is not offered: the start fails and the pool tries again
   * at its next pass; one whose write fails otherwise is deleted, so nothing stays `starting` until the sweep.
   */
  private async offerPooled(id: string): Promise<void> {
    let offered: KubernetesInstanceView | undefined;
    try {
      offered = await this.deps.runtime.updateIf(id, (i) => {
        if (i.metadata.deletionTimestamp || i.metadata.labels?.[POOLED_LABEL] !== POOLED_STARTING) return false;
        i.metadata.labels = { ...i.metadata.labels, [POOLED_LABEL]: 'true' };
        return true;
      });
    } catch (error) {
      // Best effort: what this delete leaves, the sweep deletes later; the caller learns why the start failed.
      await this.deps.runtime.delete(id, { waitMs: 0 }).catch(() => false);
      throw error;
    }
    if (!offered) throw new Error(`pooled instance ${id} went before it could be offered`);
  }

  async get(id: string): Promise<InstanceView> {
    return this.view(await this.deps.runtime.get(id));
  }

  async list(ownerId: string): Promise<InstanceView[]> {
    const all = await this.deps.runtime.list();
    return all
      .filter((i) => i.annotations[OWNER_ANNOTATION] === ownerId)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))
      .map((i) => this.view(i));
  }

  /** Deletes the resource and waits until its finalizer freed the clone on its node. */
  async delete(id: string): Promise<InstanceView> {
    return this.busy.run(id, async () => {
      const before = this.view(await this.deps.runtime.get(id));
      await this.deps.runtime.delete(id, { waitMs: this.deps.startTimeoutMs });
      return { ...before, state: 'Deleted', host: null, port: null };
    });
  }

  async touch(id: string): Promise<InstanceView> {
    await this.deps.runtime.touch(id);
    return this.get(id);
  }

  async setKey(id: string, currentKey: string): Promise<InstanceView> {
    await this.deps.runtime.touch(id, { [CURRENT_KEY_ANNOTATION]: currentKey });
    return this.get(id);
  }

  async markUsed(
    uses: readonly { id: string; currentKey?: string | null }[],
  ): Promise<{ updated: string[]; notLive: string[] }> {
    const byId = new Map<string, string | null>();
    for (const use of uses) byId.set(use.id, use.currentKey ?? byId.get(use.id) ?? null);
    const updated: string[] = [];
    const notLive: string[] = [];
    for (const [id, key] of byId) {
      try {
        await this.deps.runtime.touch(id, key ? { [CURRENT_KEY_ANNOTATION]: key } : {});
        updated.push(id);
      } catch {
        notLive.push(id);
      }
    }
    return { updated, notLive };
  }

  async suspend(id: string): Promise<InstanceView> {
    return this.busy.run(id, async () => this.view(await this.deps.runtime.suspend(id, this.deps.startTimeoutMs)));
  }

  async resume(id: string): Promise<ConnectionInfo> {
    const started = performance.now();
    return this.busy.run(id, async () => {
      const current = await this.deps.runtime.get(id);
      if (current.deleting) throw new InvalidStateError(id, 'Deleting', 'resume');
      const ready = current.ready ? current : await this.deps.runtime.resume(id, this.deps.startTimeoutMs);
      return this.connection(ready, 'resume', performance.now() - started);
    });
  }

  /**
   * Takes layer `input.key` from the instance's clone, by the agent of the node that holds it (the clone is the
   * agent's volume named by the resource's uid): that agent holds the layer from then on, so the next placement
   * of the chain lands there. On an atomic driver the server keeps running and is checkpointed just before (a
   * crash-consistent snapshot with no write in flight); otherwise the instance is suspended first (its Pod stops
   * PostgreSQL cleanly) and resumed after, whatever the snapshot did (ADR 0049).
   */
  async snapshot(
    id: string,
    input: { key: string; parentKey?: string | null; stepCount: number; buildMs: number; pinned?: boolean },
  ): Promise<{ layer: Layer; snapshotMs: number; instance: InstanceView }> {
    return this.busy.run(id, () => this.snapshotHeld(id, input));
  }

  private async snapshotHeld(
    id: string,
    input: { key: string; parentKey?: string | null; stepCount: number; buildMs: number; pinned?: boolean },
  ): Promise<{ layer: Layer; snapshotMs: number; instance: InstanceView }> {
    const started = performance.now();
    const current = await this.deps.runtime.get(id);
    const state = this.state(current);
    if ((state !== 'Running' && state !== 'Suspended') || !current.node || !current.uid) {
      throw new InvalidStateError(id, state, 'take a layer');
    }
    const agent = (await this.deps.agents.agents()).find((a) => a.node === current.node);
    if (!agent) throw new SnapshotFailedError(new Error(`no node agent answers for ${current.node}`));
    const request = { ...input, volumeId: current.uid };
    let layer: Layer;
    try {
      const driver = await this.deps.agentClient.driver(agent);
      if (state === 'Suspended') {
        layer = await this.deps.agentClient.createLayer(agent, request);
      } else if (driver.atomicSnapshot) {
        await this.checkpoint(current);
        layer = await this.deps.agentClient.createLayer(agent, request);
      } else {
        await this.deps.runtime.suspend(id, this.deps.startTimeoutMs);
        try {
          layer = await this.deps.agentClient.createLayer(agent, request);
        } finally {
          await this.deps.runtime.resume(id, this.deps.startTimeoutMs);
        }
      }
    } catch (error) {
      if (error instanceof EnvManagerError) throw error;
      throw new SnapshotFailedError(error);
    }
    return { layer, snapshotMs: performance.now() - started, instance: await this.get(id) };
  }

  /**
   * A CHECKPOINT of a Running instance's server right before its atomic snapshot, through a superuser
   * connection to its Pod as the reset makes: the learner's last commit is on disk (a session with
   * `synchronous_commit = off` leaves it in the WAL buffers for a while) and no dirty buffer is left for a
   * timed checkpoint to be writing while the agent snapshots (ADR 0049). A server that cannot be reached or does not finish within
   * LAYER_CHECKPOINT_TIMEOUT_MS gets no layer (SnapshotFailedError, as the local runtime): a layer is cloned by
   * every later run of its chain, so a torn page in it would be everyone's, while a refused one costs a replay.
   */
  private async checkpoint(instance: KubernetesInstanceView): Promise<void> {
    const { endpoint } = instance;
    const started = performance.now();
    try {
      if (!instance.ready || !endpoint) throw new Error('its Pod is not Ready: no server to checkpoint');
      await this.admin(endpoint, checkpointForLayer);
    } catch (error) {
      this.deps.logger.warn(
        { instanceId: instance.instanceId, err: error },
        'no layer: its server could not checkpoint before the snapshot',
      );
      throw new SnapshotFailedError(error);
    }
    this.deps.logger.debug(
      { instanceId: instance.instanceId, checkpointMs: Math.round(performance.now() - started) },
      'checkpoint before a layer',
    );
  }

  /**
   * Brings the sandbox database back to `key` from the template database the instance keeps (ADR 0029), through
   * a superuser connection to its Pod: the same Pod, server and address, every connection to the sandbox ended.
   * Refused (TemplateUnavailableError, nothing changed) when the instance keeps no template at that key; the
   * caller then starts the state another way. An instance whose sandbox could not be made again after it was
   * dropped cannot serve: it is deleted (its finalizer frees the clone), as a local one is marked Failed. Any
   * earlier failure (the connection, the label, ending the connections) leaves it Running as it was.
   */
  async resetToTemplate(id: string, key: string): Promise<ConnectionInfo> {
    const started = performance.now();
    return this.busy.run(id, async () => {
      const current = await this.deps.runtime.get(id);
      const state = this.state(current);
      if (state !== 'Running' || !current.ready || !current.endpoint) {
        throw new InvalidStateError(id, state, 'reset from its template');
      }
      let refusal: string | null;
      try {
        refusal = await this.admin(current.endpoint, (client) => resetFromTemplate(client, key));
      } catch (error) {
        if (error instanceof SandboxDroppedError) {
          this.deps.logger.error({ instanceId: id, err: error }, 'reset from its template failed: instance deleted');
          await this.deps.runtime.delete(id, { waitMs: 0 }).catch(() => false);
        }
        throw error;
      }
      if (refusal !== null) throw new TemplateUnavailableError(id, refusal);
      await this.deps.runtime.touch(id, { [CURRENT_KEY_ANNOTATION]: key });
      this.deps.metrics.templateResets.inc();
      return this.connection(await this.deps.runtime.get(id), 'resume', performance.now() - started);
    });
  }

  /**
   * A new instance cloned from a layer keeps that layer's state as its template database, where the node's
   * agent makes clones cheap (an atomic driver: the copy is a reflink of each file); on the copy driver it would
   * double the instance's bytes. Best effort: the instance serves without one (a reset then starts a new
   * instance, as before).
   */
  private async keepTemplate(instance: KubernetesInstanceView, layerKey: string): Promise<void> {
    const { endpoint, node } = instance;
    try {
      if (!endpoint || !node || !(await this.atomicDriver(node))) return;
      const kept = await this.admin(
        endpoint,
        (client) => keepTemplateDatabase(client, layerKey),
        this.deps.templateWaitMs,
      );
      if (!kept) this.deps.logger.info({ instanceId: instance.instanceId }, 'no template database: its state has none');
    } catch (error) {
      this.deps.logger.warn(
        { instanceId: instance.instanceId, err: error },
        'no template database kept: a reset of this instance starts a new one',
      );
    }
  }

  /** Whether the agent of `node` snapshots atomically; asked once per agent (again after a failed ask). */
  private async atomicDriver(node: string): Promise<boolean> {
    const agent = (await this.deps.agents.agents()).find((a) => a.node === node);
    if (!agent) return false;
    let known = this.atomic.get(agent.url);
    if (!known) {
      known = this.deps.agentClient.driver(agent).then((d) => d.atomicSnapshot);
      this.atomic.set(agent.url, known);
      known.catch(() => this.atomic.delete(agent.url));
    }
    return known;
  }

  /**
   * A superuser connection to the `postgres` database (never the sandbox's, which a reset drops) of the server
   * behind the instance's Pod; `waitMs` > 0 tries again while the server is not up yet, until that long.
   */
  private async admin<T>(
    endpoint: { host: string; port: number },
    fn: (client: pg.Client) => Promise<T>,
    waitMs = 0,
  ): Promise<T> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const client = new pg.Client({
        host: endpoint.host,
        port: endpoint.port,
        user: SANDBOX_ADMIN_USER,
        password: this.deps.adminPassword,
        database: 'postgres',
        connectionTimeoutMillis: ADMIN_CONNECT_TIMEOUT_MS,
      });
      // A server going away (a Pod deleted) must fail the pending call, never crash the process.
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        if (!notUpYet(error) || performance.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      try {
        return await fn(client);
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  /** Instances per state, as `taidon_instances` reports them. */
  async countByState(): Promise<Partial<Record<InstanceState, number>>> {
    const counts: Partial<Record<InstanceState, number>> = {};
    for (const i of await this.deps.runtime.list()) {
      const state = this.state(i);
      counts[state] = (counts[state] ?? 0) + 1;
    }
    return counts;
  }

  /** Nodes a clone may go on: Ready and schedulable. */
  private async readyNodes(): Promise<string[]> {
    const nodes = await this.core.listNode();
    return nodes.items
      .filter((n) => !n.spec?.unschedulable)
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata?.name ?? '')
      .filter(Boolean);
  }

  /** Instances (not being deleted) per node, for the ties of placement. */
  private async instancesPerNode(): Promise<Map<string, number>> {
    const load = new Map<string, number>();
    for (const i of await this.deps.runtime.list()) {
      if (i.deleting || !i.node) continue;
      load.set(i.node, (load.get(i.node) ?? 0) + 1);
    }
    return load;
  }

  private state(i: KubernetesInstanceView): InstanceState {
    if (i.deleting) return 'Deleting';
    // Its Pod serves, but its template database is not kept yet: the local runtime's Creating.
    if (i.state === 'Running' && i.labels[POOLED_LABEL] === POOLED_STARTING) return 'Creating';
    return i.state ?? 'Pending';
  }

  private view(i: KubernetesInstanceView): InstanceView {
    const key = (k: string | undefined) => (k && STATE_KEY.test(k) ? k : null);
    const lastUsed = i.annotations['taidon.dev/last-used'] ?? i.createdAt ?? new Date(0).toISOString();
    return {
      id: i.instanceId,
      ownerId: i.annotations[OWNER_ANNOTATION] ?? null,
      sessionId: i.annotations[SESSION_ANNOTATION] ?? null,
      state: this.state(i),
      host: i.endpoint?.host ?? null,
      port: i.endpoint?.port ?? null,
      database: SANDBOX_DATABASE,
      user: SANDBOX_USER,
      layerKey: key(i.layerKey),
      currentKey: key(i.annotations[CURRENT_KEY_ANNOTATION]),
      pooled: i.labels[POOLED_LABEL] !== undefined,
      createdAt: i.createdAt ?? new Date(0).toISOString(),
      lastUsedAt: new Date(lastUsed).toISOString(),
      suspendedAt: null,
    };
  }

  private connection(i: KubernetesInstanceView, source: ConnectionInfo['source'], readyMs: number): ConnectionInfo {
    const key = (k: string | undefined) => (k && STATE_KEY.test(k) ? k : null);
    return {
      id: i.instanceId,
      state: this.state(i),
      host: i.endpoint?.host ?? '',
      port: i.endpoint?.port ?? 0,
      database: SANDBOX_DATABASE,
      user: SANDBOX_USER,
      admin: { user: SANDBOX_ADMIN_USER, password: this.deps.adminPassword },
      layerKey: key(i.layerKey),
      currentKey: key(i.annotations[CURRENT_KEY_ANNOTATION]),
      source,
      readyMs: Math.round(readyMs * 10) / 10,
    };
  }
}

/** Whether a resource, as read, is a pooled instance of `poolKey` that a claim may take: labelled, Ready, not going. */
function isPooledReady(i: TaidonInstance, poolKey: string): boolean {
  return (
    !i.metadata.deletionTimestamp &&
    i.metadata.labels?.[POOLED_LABEL] === 'true' &&
    i.metadata.annotations?.[POOL_KEY_ANNOTATION] === poolKey &&
    i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
  );
}
