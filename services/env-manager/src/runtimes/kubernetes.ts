import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { CreationAbandonedError, InstanceNotFoundError, NamespaceQuotaError, StartFailedError } from '../errors.js';
import { isQuotaRefusal } from './kubernetes/reconcile.js';
import {
  apiMessage,
  apiStatus,
  conditionOf,
  coordinates,
  type InstanceResources,
  type InstanceState,
  LAST_USED_ANNOTATION,
  retryTooManyRequests,
  TAIDON_GROUP,
  TAIDON_KIND,
  TAIDON_VERSION,
  type TaidonInstance,
} from './kubernetes/types.js';

/** What an instance is, as env-manager asks for it. */
export interface KubernetesInstanceRequest {
  /** The resource's name (the instance id: a DNS label). */
  instanceId: string;
  layerKey: string;
  resources?: InstanceResources;
  /** Idle time after which the reconciler deletes it; absent keeps it. */
  ttlSeconds?: number;
  /** The node whose agent makes the clone (env-manager's placement); absent, the reconciler places it. */
  node?: string;
  /** What the platform keeps on the resource (owner, session): `kubectl` shows an operator what a learner sees. */
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** Where an instance is, as the platform shows it. */
export interface KubernetesInstanceView {
  instanceId: string;
  /** The resource's uid: its clone's volume id on the node agent (ADR 0045). */
  uid: string;
  state: InstanceState | undefined;
  ready: boolean;
  /** Why it is or is not ready (the Ready condition's reason). */
  reason: string | undefined;
  node: string | undefined;
  endpoint: { host: string; port: number } | undefined;
  generation: number;
  observedGeneration: number | undefined;
  /** The version read: a write conditional on it (updateIf, deleteIf) fails if anyone changed the resource since. */
  resourceVersion: string;
  /** The layer the clone is taken from (spec). */
  layerKey: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** When the resource was made (ISO), and whether its deletion has begun. */
  createdAt: string | undefined;
  deleting: boolean;
  /** For start: milliseconds from the create to the status saying Ready. */
  readyMs?: number;
}

/**
 * env-manager's `kubernetes` runtime: it writes the desired state of each
 * instance into a TaidonInstance resource and reads back what the reconciler
 * (running in whichever replica holds the Lease) made of it. Nothing here
 * touches Pods or volumes: the reconciler alone does, so a request and a
 * repair never race.
 */
export function createKubernetesRuntime(options: { kubeConfig: KubeConfig; namespace: string; pollMs?: number }) {
  const { namespace } = options;
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const pollMs = options.pollMs ?? 200;

  async function read(instanceId: string): Promise<TaidonInstance> {
    try {
      return (await retryTooManyRequests(() =>
        custom.getNamespacedCustomObject({ ...coordinates(namespace), name: instanceId }),
      )) as TaidonInstance;
    } catch (error) {
      if (apiStatus(error) === 404) throw new InstanceNotFoundError(instanceId);
      throw error;
    }
  }

  function view(instance: TaidonInstance): KubernetesInstanceView {
    const ready = conditionOf(instance, 'Ready');
    return {
      instanceId: instance.metadata.name ?? '',
      uid: instance.metadata.uid ?? '',
      state: instance.status?.state,
      ready: ready?.status === 'True',
      reason: ready?.reason,
      node: instance.status?.node ?? instance.spec.node,
      endpoint: instance.status?.endpoint,
      generation: instance.metadata.generation ?? 0,
      resourceVersion: instance.metadata.resourceVersion ?? '',
      observedGeneration: instance.status?.observedGeneration,
      layerKey: instance.spec.layerKey,
      annotations: { ...instance.metadata.annotations },
      labels: { ...instance.metadata.labels },
      createdAt: instance.metadata.creationTimestamp
        ? new Date(instance.metadata.creationTimestamp).toISOString()
        : undefined,
      deleting: Boolean(instance.metadata.deletionTimestamp),
    };
  }

  /**
   * Reads until `done` says the status describes the current spec as wanted, or the time is up; `signal` (the
   * caller gave up) ends the wait with CreationAbandonedError.
   */
  async function until(
    instanceId: string,
    timeoutMs: number,
    done: (i: TaidonInstance) => boolean,
    signal?: AbortSignal,
  ): Promise<TaidonInstance | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) throw new CreationAbandonedError();
      const instance = await read(instanceId);
      const current = instance.status?.observedGeneration === instance.metadata.generation;
      if (current && done(instance)) return instance;
      const degraded = conditionOf(instance, 'Degraded');
      if (current && degraded?.status === 'True' && degraded.reason === 'QuotaExceeded') {
        throw new NamespaceQuotaError(instanceId, degraded.message);
      }
      if (current && degraded?.status === 'True' && degraded.reason === 'PodRefused') {
        // Waiting would not help: the Pod is refused as it is (the API server's words are for the log line).
        throw new StartFailedError(`Pod refused: ${degraded.message}`, '');
      }
      if (Date.now() > deadline) return undefined;
      await pause(pollMs, signal);
    }
  }

  /** Changes the spec by a read-modify-write, again on a conflict with the reconciler's writes. */
  async function update(instanceId: string, change: (i: TaidonInstance) => void): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const instance = await read(instanceId);
      change(instance);
      try {
        await retryTooManyRequests(() =>
          custom.replaceNamespacedCustomObject({ ...coordinates(namespace), name: instanceId, body: instance }),
        );
        return;
      } catch (error) {
        if (apiStatus(error) !== 409 || attempt >= 10) throw error;
      }
    }
  }

  return {
    name: 'kubernetes' as const,
    /** Writes the instance's resource; a namespace quota on instances refuses it here (NamespaceQuotaError). */
    async create(request: KubernetesInstanceRequest): Promise<void> {
      const body: TaidonInstance = {
        apiVersion: `${TAIDON_GROUP}/${TAIDON_VERSION}`,
        kind: TAIDON_KIND,
        metadata: {
          name: request.instanceId,
          ...(request.annotations ? { annotations: request.annotations } : {}),
          ...(request.labels ? { labels: request.labels } : {}),
        },
        spec: {
          layerKey: request.layerKey,
          ...(request.node ? { node: request.node } : {}),
          ...(request.resources ? { resources: request.resources } : {}),
          ...(request.ttlSeconds ? { ttlSeconds: request.ttlSeconds } : {}),
          suspended: false,
        },
      };
      try {
        await retryTooManyRequests(() => custom.createNamespacedCustomObject({ ...coordinates(namespace), body }));
      } catch (error) {
        if (isQuotaRefusal(error)) throw new NamespaceQuotaError(request.instanceId, apiMessage(error));
        throw error;
      }
    },
    /**
     * Creates the instance and waits until it is Ready (its Pod accepts connections); past the namespace's
     * quota it throws NamespaceQuotaError, past `timeoutMs` StartFailedError, once `signal` aborts (its caller
     * gave up) CreationAbandonedError, and in every case deletes what it asked for, so nothing waits for room,
     * lingers half-started or starts for nobody.
     */
    async start(
      request: KubernetesInstanceRequest,
      timeoutMs: number,
      signal?: AbortSignal,
    ): Promise<KubernetesInstanceView> {
      const started = performance.now();
      await this.create(request);
      try {
        const ready = await until(
          request.instanceId,
          timeoutMs,
          (i) => conditionOf(i, 'Ready')?.status === 'True',
          signal,
        );
        if (!ready) {
          const last = view(await read(request.instanceId));
          throw new StartFailedError(`not Ready within ${timeoutMs} ms (${last.reason ?? 'no status'})`, '');
        }
        // Ready as the caller went: nobody will use it (the route answers nobody).
        if (signal?.aborted) throw new CreationAbandonedError();
        return { ...view(ready), readyMs: performance.now() - started };
      } catch (error) {
        // No half-started instance is left: its finalizer frees whatever was made.
        await this.delete(request.instanceId, { waitMs: 0 }).catch(() => false);
        throw error;
      }
    },
    /** Suspends: the Pod goes, the clone and its volume stay; resolves once the status says Suspended. */
    async suspend(instanceId: string, timeoutMs: number): Promise<KubernetesInstanceView> {
      await update(instanceId, (i) => {
        i.spec.suspended = true;
      });
      const done = await until(
        instanceId,
        timeoutMs,
        (i) => i.status?.state === 'Suspended' && conditionOf(i, 'Progressing')?.status === 'False',
      );
      if (!done) throw new StartFailedError(`not Suspended within ${timeoutMs} ms`, '');
      return view(done);
    },
    /** Resumes a suspended instance on the node that holds its clone; resolves once Ready. */
    async resume(instanceId: string, timeoutMs: number): Promise<KubernetesInstanceView> {
      await update(instanceId, (i) => {
        i.spec.suspended = false;
      });
      const ready = await until(instanceId, timeoutMs, (i) => conditionOf(i, 'Ready')?.status === 'True');
      if (!ready) throw new StartFailedError(`not Ready within ${timeoutMs} ms after resume`, '');
      return view(ready);
    },
    /**
     * Changes the resource only while `change` accepts it as read (it answers false to give up), by a write
     * conditional on the version read: a 409 (anyone's write since, a claim, a retire, the reconciler's status)
     * reads it again and asks `change` again. Two callers can therefore never both change one version: the warm
     * pool's claim hands a pooled instance to one caller only. Answers the resource as written, or undefined
     * when `change` gave up or the resource is gone.
     */
    async updateIf(
      instanceId: string,
      change: (i: TaidonInstance) => boolean,
    ): Promise<KubernetesInstanceView | undefined> {
      for (let attempt = 0; ; attempt++) {
        let instance: TaidonInstance;
        try {
          instance = await read(instanceId);
        } catch (error) {
          if (error instanceof InstanceNotFoundError) return undefined;
          throw error;
        }
        if (!change(instance)) return undefined;
        try {
          // A 429 (the API server's flow control) refused the write before applying it: sent again as it was.
          const written = (await retryTooManyRequests(() =>
            custom.replaceNamespacedCustomObject({ ...coordinates(namespace), name: instanceId, body: instance }),
          )) as TaidonInstance;
          return view(written);
        } catch (error) {
          if (apiStatus(error) === 404) return undefined;
          if (apiStatus(error) !== 409 || attempt >= 10) throw error;
        }
      }
    },
    /**
     * Deletes the resource only while `accept` accepts it as read, with the version read as the delete's
     * precondition (again on a 409, as updateIf); answers whether it was deleted. The finalizer frees its clone
     * afterwards; nothing waits for that here.
     */
    async deleteIf(instanceId: string, accept: (i: TaidonInstance) => boolean): Promise<boolean> {
      for (let attempt = 0; ; attempt++) {
        let instance: TaidonInstance;
        try {
          instance = await read(instanceId);
        } catch (error) {
          if (error instanceof InstanceNotFoundError) return false;
          throw error;
        }
        if (instance.metadata.deletionTimestamp || !accept(instance)) return false;
        try {
          await retryTooManyRequests(() =>
            custom.deleteNamespacedCustomObject({
              ...coordinates(namespace),
              name: instanceId,
              body: {
                preconditions: {
                  ...(instance.metadata.uid ? { uid: instance.metadata.uid } : {}),
                  ...(instance.metadata.resourceVersion ? { resourceVersion: instance.metadata.resourceVersion } : {}),
                },
              },
            }),
          );
          return true;
        } catch (error) {
          if (apiStatus(error) === 404) return false;
          if (apiStatus(error) !== 409 || attempt >= 10) throw error;
        }
      }
    },
    /** Records a use, from which the instance's TTL counts. */
    async touch(instanceId: string, annotations: Record<string, string> = {}): Promise<void> {
      await update(instanceId, (i) => {
        i.metadata.annotations = {
          ...i.metadata.annotations,
          ...annotations,
          [LAST_USED_ANNOTATION]: new Date().toISOString(),
        };
      });
    },
    /** Deletes the instance; with `waitMs`, resolves once the finalizer freed its clone and the resource is gone. */
    async delete(instanceId: string, { waitMs = 60_000 }: { waitMs?: number } = {}): Promise<boolean> {
      try {
        await custom.deleteNamespacedCustomObject({ ...coordinates(namespace), name: instanceId });
      } catch (error) {
        if (apiStatus(error) !== 404) throw error;
      }
      const deadline = Date.now() + waitMs;
      while (waitMs > 0) {
        try {
          await read(instanceId);
        } catch (error) {
          if (error instanceof InstanceNotFoundError) return true;
          throw error;
        }
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, pollMs));
      }
      return false;
    },
    async get(instanceId: string): Promise<KubernetesInstanceView> {
      return view(await read(instanceId));
    },
    /** The platform's view of a resource already read (as updateIf and deleteIf hand it). */
    viewOf: view,
    async list(labelSelector?: string): Promise<KubernetesInstanceView[]> {
      const list = (await retryTooManyRequests(() =>
        custom.listNamespacedCustomObject({ ...coordinates(namespace), ...(labelSelector ? { labelSelector } : {}) }),
      )) as { items: TaidonInstance[] };
      return list.items.map(view);
    },
  };
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The kubernetes runtime's operations. */
export type KubernetesRuntime = ReturnType<typeof createKubernetesRuntime>;
