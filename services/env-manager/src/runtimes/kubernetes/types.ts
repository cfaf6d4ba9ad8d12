import type { V1ObjectMeta } from '@kubernetes/client-node';

// The TaidonInstance custom resource (charts/taidon/crds/taidoninstances.yaml)
// as TypeScript, and the names every part of the kubernetes runtime shares.

/** API group, version and plural of the custom resource. */
export const TAIDON_GROUP = 'taidon.dev';
export const TAIDON_VERSION = 'v1alpha1';
export const TAIDON_PLURAL = 'taidoninstances';
export const TAIDON_KIND = 'TaidonInstance';

/** The finalizer the reconciler puts on every instance: it frees the clone, then lets the resource go. */
export const CLONE_FINALIZER = 'taidon.dev/free-clone';

/** Labels on every object the reconciler makes (Pods, PVCs, PVs), so orphans are found by selector. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'taidon-env-manager';
export const INSTANCE_LABEL = 'taidon.dev/instance';
export const INSTANCE_UID_LABEL = 'taidon.dev/instance-uid';
/** On PersistentVolumes (cluster-scoped): the namespace of their instance. */
export const NAMESPACE_LABEL = 'taidon.dev/namespace';
/** The last use env-manager recorded (ISO time), from which `ttlSeconds` counts. */
export const LAST_USED_ANNOTATION = 'taidon.dev/last-used';

/** PostgreSQL's port in the sandbox Pod. */
export const POSTGRES_PORT = 5432;

/** Where the instance is in its life; the states of ARCHITECTURE §5. */
export type InstanceState = 'Pending' | 'Creating' | 'Running' | 'Suspended' | 'Deleting' | 'Failed';

/** Requests and limits as Kubernetes quantities. */
export interface InstanceResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

/** What the instance is: written by env-manager. */
export interface TaidonInstanceSpec {
  layerKey: string;
  /** The node whose agent holds the layer, chosen by env-manager at create (immutable); absent, the reconciler places it. */
  node?: string;
  resources?: InstanceResources;
  ttlSeconds?: number;
  suspended?: boolean;
}

/** One condition, as metav1.Condition. */
export interface InstanceCondition {
  type: 'Ready' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** What the cluster has: written by the reconciler only. */
export interface TaidonInstanceStatus {
  state?: InstanceState;
  observedGeneration?: number;
  node?: string;
  clonePath?: string;
  volume?: string;
  endpoint?: { host: string; port: number };
  conditions?: InstanceCondition[];
}

export interface TaidonInstance {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: TaidonInstanceSpec;
  status?: TaidonInstanceStatus;
}

/** The resource's API path in a namespace (for watches). */
export function instancesPath(namespace: string): string {
  return `/apis/${TAIDON_GROUP}/${TAIDON_VERSION}/namespaces/${namespace}/${TAIDON_PLURAL}`;
}

/** The custom-objects API's coordinates of the resource in a namespace. */
export function coordinates(namespace: string) {
  return { group: TAIDON_GROUP, version: TAIDON_VERSION, namespace, plural: TAIDON_PLURAL };
}

/** The condition of a type, if the status has it. */
export function conditionOf(instance: TaidonInstance, type: InstanceCondition['type']): InstanceCondition | undefined {
  return instance.status?.conditions?.find((c) => c.type === type);
}

/** The HTTP status of a client-node error (ApiException.code), or undefined for anything else. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's message in a client-node error's body (a Status object), else the error's message. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.slice(0, 500);
    }
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs an API call again while the API server answers 429 (its storage for a resource (re)initializing, as after
 * the CRD was installed or changed, or priority and fairness shedding), after the Retry-After it gives (at most
 * 2 s), `attempts` times in all; any other answer is the call's.
 */
export async function retryTooManyRequests<T>(call: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (apiStatus(error) !== 429 || attempt >= attempts) throw error;
      const headers = (error as { headers?: Record<string, string> }).headers;
      const after = Number(headers?.['retry-after'] ?? 1);
      await new Promise((r) =>
        setTimeout(r, Math.min(2000, Math.max(100, (Number.isFinite(after) ? after : 1) * 1000))),
      );
    }
  }
}
