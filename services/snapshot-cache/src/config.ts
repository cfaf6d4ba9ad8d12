import { type ConfigOf, envEnum, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

const GiB = 1024 ** 3;

/** Every environment variable snapshot-cache reads. */
export const snapshotCacheConfigSpec = {
  SNAPSHOT_CACHE_DATABASE_URL: envUrl(
    "Connection URL of snapshot-cache's own role on the control-plane PostgreSQL (schema `snapshot_cache`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  SNAPSHOT_CACHE_ROOT: envString(
    'Directory holding `volumes/` and `layers/`; a loop-backed btrfs image is mounted here when needed.',
    {
      default: '/var/lib/taidon/snapshot-cache',
    },
  ),
  SNAPSHOT_CACHE_DRIVER: envEnum(
    'Copy-on-write driver: `auto` picks btrfs when the root is on btrfs or a loop image can be mounted (root), else copy.',
    ['auto', 'btrfs', 'copy', 'zfs', 'lvm-thin'],
    { default: 'auto' },
  ),
  SNAPSHOT_CACHE_BTRFS_IMAGE: envOptional(
    'Sparse image file the btrfs driver creates and mounts when the root is not on btrfs. Default `<root>.img`.',
  ),
  SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: envInt('Size of that image when it is created (sparse: costs only what is used).', {
    default: 20 * GiB,
    min: 64 * 1024 ** 2,
  }),
  SNAPSHOT_CACHE_BTRFS_IMAGE_BARRIERS: envEnum(
    'Write barriers of that image: `off` (default) mounts it `nobarrier`, so a snapshot does not fsync the whole image file on the host; after a host crash the image may need deleting (it is a cache). `on` keeps them.',
    ['off', 'on'],
    { default: 'off' },
  ),
  SNAPSHOT_CACHE_BTRFS_QUOTAS: envEnum(
    'btrfs qgroups: `on` accounts layer sizes with them and caps each clone at INSTANCE_DISK_MAX_BYTES, but makes every snapshot slow once hundreds of subvolumes exist; `off` sizes with `btrfs filesystem du`.',
    ['off', 'on'],
    { default: 'off' },
  ),
  SNAPSHOT_CACHE_BUDGET_BYTES: envInt(
    'Total size of layers to keep; beyond it the least valuable layers are evicted.',
    {
      default: 10 * GiB,
      min: 0,
    },
  ),
  SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS: envInt(
    'Half-life of the recency weight in a layer eviction score: a layer unused this long counts half.',
    { default: 86_400, min: 1 },
  ),
  SNAPSHOT_CACHE_SPARE_CLONES: envInt(
    'How many layers keep one clone made ahead, so that their next volume needs no clone on the request (drivers with cheap clones: btrfs, zfs, lvm-thin); 0 makes none.',
    { default: 16, min: 0 },
  ),
  SNAPSHOT_CACHE_ZFS_DATASET: envOptional('Existing ZFS dataset for the zfs driver, e.g. `tank/taidon`.'),
  SNAPSHOT_CACHE_LVM_VG: envOptional('Volume group of the lvm-thin driver.'),
  SNAPSHOT_CACHE_LVM_POOL: envOptional('Thin pool (in that volume group) of the lvm-thin driver.'),
  SNAPSHOT_CACHE_LVM_VOLUME_BYTES: envInt('Virtual size of a new lvm-thin volume (thin: costs what is written).', {
    default: 10 * GiB,
    min: 64 * 1024 ** 2,
  }),
  SNAPSHOT_CACHE_NODE_NAME: envOptional(
    "The node this agent runs on (the chart gives the Pod's spec.nodeName). Set, its records live in a schema of their own, `snapshot_cache_node_<hash of the name>`, made at start: layers are node-local, and agents sharing one schema would answer lookups for each other's layers and, at start, forget every layer not on their own disk. Unset, the role's own schema.",
  ),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8083, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** snapshot-cache's validated, frozen configuration. */
export type SnapshotCacheConfig = ConfigOf<typeof snapshotCacheConfigSpec>;

/** Reads snapshot-cache's configuration from the environment, reporting every bad variable at once. */
export function loadSnapshotCacheConfig(env: NodeJS.ProcessEnv = process.env): SnapshotCacheConfig {
  return loadConfig(snapshotCacheConfigSpec, env);
}
