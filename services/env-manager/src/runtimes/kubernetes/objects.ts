import type { V1OwnerReference, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { serverStartArgs } from '../server-args.js';
import { EMPTY_CLONE_KEY } from './agents.js';
import { type CloneInitSettings, initCloneContainer } from './init-clone.js';
import {
  INSTANCE_LABEL,
  INSTANCE_UID_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  NAMESPACE_LABEL,
  POSTGRES_PORT,
  TAIDON_GROUP,
  TAIDON_KIND,
  TAIDON_VERSION,
  type TaidonInstance,
} from './types.js';

// The objects one instance becomes: its clone as a `local` PersistentVolume
// pinned to the node holding it (never hostPath, which the restricted and
// baseline Pod Security profiles refuse; ADR 0034), a PVC bound to exactly
// that volume, and one Pod the restricted profile admits.

/** How the sandbox Pods are made; the chart's values. */
export interface SandboxPodSettings {
  /** PostgreSQL image (the project's sandbox image). */
  image: string;
  /** The image's PostgreSQL user id: the Pod runs as it (runAsNonRoot), and the clones are owned by it. */
  runAsUser: number;
  /** Requests and limits when the instance's spec names none. */
  defaultResources: { requests: Record<string, string>; limits: Record<string, string> };
  /** Size the PV and PVC claim (a local volume is not enforced by it; the node agent's quota is). */
  volumeSize: string;
  /** Storage class of the clones' volumes (only these PVs bind to these PVCs). */
  storageClassName: string;
  /**
   * Tolerations of a sandbox Pod: the fast-disk nodes that hold the clones are tainted so that only sandboxes and
   * the node agent land there (the chart's `snapshotCache.tolerations`); the clone's volume pins the Pod there.
   */
  tolerations: { key: string; operator: 'Exists' | 'Equal'; value?: string; effect?: string }[];
  /**
   * How an empty clone (`layerKey: template`) becomes the sandbox template: an init container of the image runs
   * initdb and the template's setup on it once. Absent, a Pod on an empty clone gets none (tests of the
   * reconciler alone).
   */
  init?: CloneInitSettings;
}

export const DEFAULT_POD_SETTINGS: SandboxPodSettings = {
  image: 'taidon/sandbox-postgres:18',
  runAsUser: 999,
  defaultResources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  volumeSize: '1Gi',
  storageClassName: 'taidon-clone',
  tolerations: [{ key: 'taidon.dev/fast-disk', operator: 'Exists', effect: 'NoSchedule' }],
};

/** Where the clone is mounted in the Pod: PostgreSQL's data directory. */
export const DATA_MOUNT = '/var/lib/postgresql/data';

/** The PV's name: cluster-scoped, so the namespace is in it. */
export function volumeName(instance: TaidonInstance): string {
  return `taidon-${instance.metadata.namespace}-${instance.metadata.name}`;
}

/** The PVC's name in the sandbox namespace. */
export function claimName(instance: TaidonInstance): string {
  return `${instance.metadata.name}-clone`;
}

/** The labels of everything made for `instance`. */
export function instanceLabels(instance: TaidonInstance): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    'app.kubernetes.io/name': 'taidon-sandbox',
    [INSTANCE_LABEL]: instance.metadata.name ?? '',
    [INSTANCE_UID_LABEL]: instance.metadata.uid ?? '',
  };
}

/** Namespaced objects belong to their instance, so the garbage collector removes them even past the reconciler. */
function ownerReference(instance: TaidonInstance): V1OwnerReference {
  return {
    apiVersion: `${TAIDON_GROUP}/${TAIDON_VERSION}`,
    kind: TAIDON_KIND,
    name: instance.metadata.name ?? '',
    uid: instance.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: false,
  };
}

/**
 * The clone as a local volume that only the node labelled `kubernetes.io/hostname=hostname` (the node holding the
 * clone) can mount, reserved for the instance's claim.
 */
export function cloneVolume(instance: TaidonInstance, hostname: string, path: string, settings: SandboxPodSettings) {
  const volume: V1PersistentVolume = {
    metadata: {
      name: volumeName(instance),
      labels: { ...instanceLabels(instance), [NAMESPACE_LABEL]: instance.metadata.namespace ?? '' },
    },
    spec: {
      capacity: { storage: settings.volumeSize },
      accessModes: ['ReadWriteOncePod'],
      // The clone is freed by the finalizer through the node agent, not by Kubernetes.
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: settings.storageClassName,
      volumeMode: 'Filesystem',
      local: { path },
      claimRef: { namespace: instance.metadata.namespace, name: claimName(instance) },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] },
          ],
        },
      },
    },
  };
  return volume;
}

/** The claim of exactly the instance's volume. */
export function cloneClaim(instance: TaidonInstance, settings: SandboxPodSettings): V1PersistentVolumeClaim {
  return {
    metadata: {
      name: claimName(instance),
      labels: instanceLabels(instance),
      ownerReferences: [ownerReference(instance)],
    },
    spec: {
      accessModes: ['ReadWriteOncePod'],
      storageClassName: settings.storageClassName,
      volumeName: volumeName(instance),
      resources: { requests: { storage: settings.volumeSize } },
    },
  };
}

/**
 * The instance's Pod: the restricted profile's rules (non-root, no privilege escalation, all capabilities
 * dropped, RuntimeDefault seccomp), a read-only root filesystem with emptyDirs where PostgreSQL writes besides
 * its data directory (socket and lock directory, temporary files), no service-account token, requests and
 * limits. The scheduler places it on the clone's node through the volume's node affinity.
 */
export function sandboxPod(instance: TaidonInstance, settings: SandboxPodSettings): V1Pod {
  const resources = instance.spec.resources ?? {};
  const securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  };
  const limits = {
    requests: { ...settings.defaultResources.requests, ...(resources.requests ?? {}) },
    limits: { ...settings.defaultResources.limits, ...(resources.limits ?? {}) },
  };
  const volumeMounts = [
    { name: 'data', mountPath: DATA_MOUNT },
    { name: 'run', mountPath: '/run/postgresql' },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  const init =
    settings.init && instance.spec.layerKey === EMPTY_CLONE_KEY
      ? [
          initCloneContainer({
            image: settings.image,
            dataMount: DATA_MOUNT,
            settings: settings.init,
            securityContext,
            resources: limits,
            volumeMounts,
          }),
        ]
      : undefined;
  return {
    metadata: {
      generateName: `${instance.metadata.name}-`,
      labels: instanceLabels(instance),
      ownerReferences: [ownerReference(instance)],
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      tolerations: settings.tolerations,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: settings.runAsUser,
        runAsGroup: settings.runAsUser,
        // No fsGroup: it would make the data directory group-writable and setgid, and PostgreSQL refuses a data
        // directory with more than u=rwx,g=rx. The node agent makes each clone owned by `runAsUser`, mode 0700.
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(init ? { initContainers: init } : {}),
      containers: [
        {
          name: 'postgres',
          image: settings.image,
          // The command, not the image's entrypoint (whose PGDATA is elsewhere and which would try an initdb on
          // a read-only root): PostgreSQL itself, on the clone.
          command: [
            'postgres',
            '-D',
            DATA_MOUNT,
            '-c',
            'listen_addresses=*',
            '-c',
            'unix_socket_directories=/run/postgresql',
            ...serverStartArgs(),
          ],
          ports: [{ name: 'postgres', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
          readinessProbe: { tcpSocket: { port: POSTGRES_PORT }, periodSeconds: 2, failureThreshold: 3 },
          securityContext,
          resources: limits,
          volumeMounts,
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: claimName(instance) } },
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      ],
    },
  };
}
