import { type ConfigOf, type EnvVar, envEnum, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

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
  return loadConfig(envManagerConfigSpec, env);
}
