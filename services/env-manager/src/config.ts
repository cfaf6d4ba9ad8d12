import {
  ConfigError,
  type ConfigOf,
  type EnvVar,
  envEnum,
  envInt,
  envOptional,
  envString,
  envUrl,
  loadConfig,
} from '@taidon/kit';

/** cgroup v2 `cpu.max` value: "max <period>" or "<quota> <period>" in microseconds. */
function envCpuMax(doc: string, fallback: string): EnvVar<string> {
  return {
    doc,
    parse: (raw) => {
      const value = (raw ?? fallback).trim();
      if (!/^(max|\d+) \d+$/.test(value)) throw new Error('must be "<quota|max> <period>" in microseconds');
      return value;
    },
  };
}

/** A string matching `pattern`, `what` naming the form in the error. */
function envMatching(doc: string, pattern: RegExp, what: string, fallback?: string): EnvVar<string> {
  return {
    doc,
    parse: (raw) => {
      const value = (raw ?? fallback)?.trim();
      if (value === undefined || value === '') throw new Error('is required');
      if (!pattern.test(value)) throw new Error(`must be ${what}`);
      return value;
    },
  };
}

/** A DNS label (RFC 1123), as Kubernetes names namespaces. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS subdomain (RFC 1123), as Kubernetes names most objects. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes quantity (e.g. 100m, 1, 256Mi, 1Gi). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
/** A label selector of equality terms (`a=b,c=d`). */
const SELECTOR = /^[A-Za-z0-9][-A-Za-z0-9_./]*=[-A-Za-z0-9_.]*(,[A-Za-z0-9][-A-Za-z0-9_./]*=[-A-Za-z0-9_.]*)*$/;

/** A node agent's address by node name, as SNAPSHOT_CACHE_AGENTS writes them. */
export interface StaticAgent {
  node: string;
  url: string;
}

/** `node=http://host:port,node=…`: each node once, each URL http(s). */
export function parseAgentMap(value: string): StaticAgent[] {
  const agents: StaticAgent[] = [];
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const at = entry.indexOf('=');
    const node = entry.slice(0, at).trim();
    const url = entry.slice(at + 1).trim();
    if (at <= 0 || !DNS_SUBDOMAIN.test(node)) throw new Error(`"${entry}": must be <node name>=<agent URL>`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`"${entry}": the agent URL is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`"${entry}": must be http(s)`);
    if (agents.some((a) => a.node === node)) throw new Error(`node ${node} is named twice`);
    agents.push({ node, url: url.replace(/\/+$/, '') });
  }
  return agents;
}

/** Every environment variable env-manager reads. */
export const envManagerConfigSpec = {
  ENV_MANAGER_DATABASE_URL: envUrl(
    "Connection URL of env-manager's own role on the control-plane PostgreSQL (schema `env_manager`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  SNAPSHOT_CACHE_URL: envUrl('Base URL of snapshot-cache, which owns volumes and layers.', {
    default: 'http://127.0.0.1:8083',
  }),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  AUDIT_LOG_URL: envOptional(
    'Base URL of audit-log: instance created/deleted events go there through the outbox; unset, none are recorded.',
  ),
  AUDIT_OUTBOX_FILE: envString('JSONL file keeping audit events until audit-log accepts them.', {
    default: 'audit-outbox/env-manager.jsonl',
  }),
  SANDBOX_ADMIN_PASSWORD: envString(
    'Password of the `postgres` superuser inside every sandbox instance (scram-sha-256, loopback only); the runner uses it for CHECKPOINT and cancelling.',
    { secret: true },
  ),
  SANDBOX_STATEMENT_TIMEOUT_MS: envInt('Default `statement_timeout` of the learner role, in milliseconds.', {
    default: 30_000,
    min: 0,
    max: 86_400_000,
  }),
  SANDBOX_IDLE_IN_TRANSACTION_TIMEOUT_MS: envInt(
    'Default `idle_in_transaction_session_timeout` of the learner role, in milliseconds.',
    { default: 60_000, min: 0, max: 86_400_000 },
  ),
  SANDBOX_TEMP_FILE_LIMIT_KB: envInt(
    '`temp_file_limit` of every instance in kB; a superuser-only setting, so the learner cannot lift it (-1 = none).',
    { default: 1_048_576, min: -1, max: 2_147_483_647 },
  ),
  SANDBOX_WORK_MEM_KB: envInt('Default `work_mem` of the learner role, in kB.', {
    default: 4096,
    min: 64,
    max: 2_097_151,
  }),
  INSTANCE_MEMORY_MAX_BYTES: envInt('cgroup `memory.max` of each instance, where cgroup v2 allows it.', {
    default: 268_435_456,
    min: 16_777_216,
  }),
  INSTANCE_CGROUPS: envEnum(
    '`limits`: a cgroup per instance where cgroup v2 delegates memory, pids or cpu (not for the freezer alone: placing a process in a cgroup stalls every fork on the machine, and halves creation under load); `always`: wherever cgroup v2 is writable; `off`: never (signals freeze).',
    ['limits', 'always', 'off'],
    { default: 'limits' },
  ),
  INSTANCE_START_CONCURRENCY: envInt(
    'Instances created (volume clone + server start) at once; more wait in a queue (a crowd of creations all miss their start timeout).',
    { default: 4, min: 1, max: 256 },
  ),
  INSTANCE_DISK_MAX_BYTES: envInt(
    'Bytes an instance may write beyond the layer it was cloned from (btrfs qgroup limit on its volume); 0 for no cap. A learner filling the disk gets "could not extend file" instead of filling it for everyone.',
    { default: 2 * 1024 ** 3, min: 0, max: Number.MAX_SAFE_INTEGER },
  ),
  INSTANCE_PIDS_MAX: envInt('cgroup `pids.max` of each instance (postmaster, its workers and backends).', {
    default: 64,
    min: 8,
    max: 65_536,
  }),
  INSTANCE_CPU_MAX: envCpuMax(
    'cgroup `cpu.max` of each instance, "<quota> <period>" in microseconds ("100000 100000" = one CPU).',
    '100000 100000',
  ),
  INSTANCE_IDLE_TTL_SECONDS: envInt('Anonymous owners: a Running instance unused this long is suspended.', {
    default: 900,
    min: 1,
  }),
  INSTANCE_SUSPENDED_TTL_SECONDS: envInt('A Suspended instance unused this long is deleted with its volume.', {
    default: 86_400,
    min: 1,
  }),
  INSTANCE_THROWAWAY_TTL_SECONDS: envInt(
    "Instances created for the `throwaway` owner role (sql-runner's throwaway clones: project tests, EXPLAIN) are deleted this long after they were created, whatever they are doing: a runner that stopped mid-use cannot leak one.",
    { default: 600, min: 1 },
  ),
  INSTANCE_START_TIMEOUT_MS: envInt('Give up on a server that does not accept connections within this time.', {
    default: 30_000,
    min: 100,
  }),
  INSTANCE_STUCK_TIMEOUT_MS: envInt('Records left in Creating or Deleting longer than this are marked Failed.', {
    default: 300_000,
    min: 1000,
  }),
  RECONCILE_INTERVAL_MS: envInt('How often the reconcile, TTL and warm-pool loops run, in milliseconds.', {
    default: 10_000,
    min: 10,
  }),
  WARM_POOL_MAX_INSTANCES: envInt('Upper bound on pooled (started, unowned) instances across all keys.', {
    default: 20,
    min: 0,
    max: 10_000,
  }),
  WARM_POOL_MIN_AVAILABLE_BYTES: envInt(
    'When MemAvailable in /proc/meminfo drops below this, the warm pool stops its oldest instances.',
    { default: 536_870_912, min: 0 },
  ),
  ENV_MANAGER_RUNTIME: envEnum(
    '`local`: PostgreSQL servers as processes on this machine. `kubernetes`: each instance a TaidonInstance resource in SANDBOX_NAMESPACE, reconciled (by the replica holding the Lease) into a Pod on the node whose agent holds its clone (ADR 0034, ADR 0045).',
    ['local', 'kubernetes'],
    { default: 'local' },
  ),
  KUBECONFIG: envOptional(
    "kubernetes runtime: kubeconfig file to reach the API server with; unset, the Pod's service account (in-cluster).",
  ),
  SANDBOX_NAMESPACE: envMatching(
    'kubernetes runtime: namespace of the TaidonInstances, their Pods and claims (a DNS label).',
    DNS_LABEL,
    'a DNS label',
    'taidon-sandboxes',
  ),
  SANDBOX_IMAGE: envMatching(
    "kubernetes runtime: image of a sandbox's PostgreSQL (the engine's major version is part of every state key).",
    /^[^\s]+$/,
    'an image reference without spaces',
    'taidon/sandbox-postgres:18',
  ),
  SANDBOX_RUN_AS_USER: envInt(
    "kubernetes runtime: the image's PostgreSQL uid; the sandbox Pod runs as it (runAsNonRoot: never 0).",
    { default: 999, min: 1, max: 2_147_483_647 },
  ),
  SANDBOX_STORAGE_CLASS: envMatching(
    "kubernetes runtime: storage class of the clones' local PersistentVolumes and their claims.",
    DNS_SUBDOMAIN,
    'a DNS subdomain',
    'taidon-clone',
  ),
  SANDBOX_CPU_REQUEST: envMatching('kubernetes runtime: CPU request of a sandbox Pod.', QUANTITY, 'a quantity', '100m'),
  SANDBOX_CPU_LIMIT: envMatching('kubernetes runtime: CPU limit of a sandbox Pod.', QUANTITY, 'a quantity', '1'),
  SANDBOX_MEMORY_REQUEST: envMatching(
    'kubernetes runtime: memory request of a sandbox Pod.',
    QUANTITY,
    'a quantity',
    '128Mi',
  ),
  SANDBOX_MEMORY_LIMIT: envMatching(
    'kubernetes runtime: memory limit of a sandbox Pod.',
    QUANTITY,
    'a quantity',
    '256Mi',
  ),
  SANDBOX_VOLUME_SIZE: envMatching(
    "kubernetes runtime: size a clone's PersistentVolume and claim state (a local volume does not enforce it).",
    QUANTITY,
    'a quantity',
    '1Gi',
  ),
  SANDBOX_LEASE_DURATION_MS: envInt(
    'kubernetes runtime: a leader that has not renewed the reconciler Lease for this long is replaced.',
    { default: 15_000, min: 1000, max: 600_000 },
  ),
  SANDBOX_RESYNC_INTERVAL_MS: envInt(
    'kubernetes runtime: every this often the reconciler looks at every instance again and sweeps orphans (Pods, volumes, clones with no instance), events or not.',
    { default: 30_000, min: 1000, max: 3_600_000 },
  ),
  SANDBOX_ORPHAN_CLONE_GRACE_SECONDS: envInt(
    "kubernetes runtime: a node agent's clone that no TaidonInstance names is freed by the sweep once it is at least this old (by the agent's clock), so a clone being made now is never taken.",
    { default: 600, min: 1, max: 604_800 },
  ),
  SANDBOX_TEMPLATE_WAIT_MS: envInt(
    "kubernetes runtime: how long a new instance's server may refuse the superuser connection once its Pod is Ready (a TCP probe passes while PostgreSQL still replays a layer's WAL) before the instance serves without a template database to reset from (0: not waited for).",
    { default: 10_000, min: 0, max: 120_000 },
  ),
  SNAPSHOT_CACHE_AGENTS: envMatching(
    'kubernetes runtime: the node agents by node, `node-a=http://10.0.0.5:8080,node-b=…` (tests, single nodes); unset (`-`), they are found as Pods in POD_NAMESPACE by SNAPSHOT_CACHE_AGENT_SELECTOR.',
    /^(-|[^\s]+)$/,
    '`-` or `<node>=<url>,…`',
    '-',
  ),
  SNAPSHOT_CACHE_AGENT_SELECTOR: envMatching(
    "kubernetes runtime: label selector of the node agents' Pods (their nodeName and podIP make the map).",
    SELECTOR,
    'a label selector of `key=value` terms',
    'app.kubernetes.io/component=snapshot-cache',
  ),
  SNAPSHOT_CACHE_AGENT_PORT: envInt("kubernetes runtime: the node agents' HTTP port on their Pod IP.", {
    default: 8080,
    min: 1,
    max: 65_535,
  }),
  POD_NAME: envOptional(
    "kubernetes runtime: this replica's Pod name (the downward API), its identity in the reconciler Lease.",
  ),
  POD_NAMESPACE: envOptional(
    "kubernetes runtime: the platform namespace (the downward API), where the node agents' Pods are listed.",
  ),
  INSTANCE_RUN_DIR: envString('Directory for each instance’s socket directory and server log.', {
    default: '/tmp/taidon-env-manager',
  }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8084, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** env-manager's validated, frozen configuration. */
export type EnvManagerConfig = ConfigOf<typeof envManagerConfigSpec>;

/** Reads env-manager's configuration from the environment, reporting every bad variable at once. */
export function loadEnvManagerConfig(env: NodeJS.ProcessEnv = process.env): EnvManagerConfig {
  const config = loadConfig(envManagerConfigSpec, env);
  if (config.ENV_MANAGER_RUNTIME === 'kubernetes') {
    // What only makes sense together is checked together: a bad map or no way to find agents is a start-up error.
    const problems: string[] = [];
    if (config.SNAPSHOT_CACHE_AGENTS !== '-') {
      try {
        parseAgentMap(config.SNAPSHOT_CACHE_AGENTS);
      } catch (error) {
        problems.push(`SNAPSHOT_CACHE_AGENTS: ${(error as Error).message}`);
      }
    } else if (!config.POD_NAMESPACE) {
      problems.push('POD_NAMESPACE: required to find the node agents when SNAPSHOT_CACHE_AGENTS is unset');
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return config;
}
