import { dirname } from 'node:path';
import type { SnapshotCacheConfig } from '../config.js';
import { BtrfsDriver, isOnBtrfs } from './btrfs.js';
import { commandAvailable } from './commands.js';
import { CopyDriver } from './copy.js';
import type { CowDriver, DriverName } from './driver.js';
import { pathExists } from './layout.js';
import { LvmThinDriver } from './lvm-thin.js';
import { ZfsDriver } from './zfs.js';

/** The part of the configuration that chooses and sets up a driver. */
export type DriverConfig = Pick<
  SnapshotCacheConfig,
  | 'SNAPSHOT_CACHE_ROOT'
  | 'SNAPSHOT_CACHE_DRIVER'
  | 'SNAPSHOT_CACHE_BTRFS_IMAGE'
  | 'SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES'
  | 'SNAPSHOT_CACHE_BTRFS_IMAGE_BARRIERS'
  | 'SNAPSHOT_CACHE_BTRFS_QUOTAS'
  | 'SNAPSHOT_CACHE_ZFS_DATASET'
  | 'SNAPSHOT_CACHE_LVM_VG'
  | 'SNAPSHOT_CACHE_LVM_POOL'
  | 'SNAPSHOT_CACHE_LVM_VOLUME_BYTES'
>;

/** The nearest existing directory at or above `path`, whose filesystem a new root would be on. */
async function nearestExisting(path: string): Promise<string> {
  let current = path;
  while (!(await pathExists(current)) && dirname(current) !== current) current = dirname(current);
  return current;
}

/**
 * Resolves `auto`: btrfs when the root is on btrfs already, or when this
 * process is root and can make and mount a loop-backed btrfs image; copy
 * otherwise. zfs and lvm-thin are only ever chosen explicitly.
 */
export async function detectDriver(
  config: Pick<DriverConfig, 'SNAPSHOT_CACHE_ROOT' | 'SNAPSHOT_CACHE_DRIVER'>,
): Promise<DriverName> {
  if (config.SNAPSHOT_CACHE_DRIVER !== 'auto') return config.SNAPSHOT_CACHE_DRIVER;
  if (await isOnBtrfs(await nearestExisting(config.SNAPSHOT_CACHE_ROOT))) return 'btrfs';
  if (process.getuid?.() === 0 && (await commandAvailable('mkfs.btrfs'))) return 'btrfs';
  return 'copy';
}

/** The configured driver, not yet prepared (call `prepare()` before use). */
export async function createDriver(config: DriverConfig): Promise<CowDriver> {
  const rootDir = config.SNAPSHOT_CACHE_ROOT;
  const name = await detectDriver(config);
  switch (name) {
    case 'btrfs':
      return new BtrfsDriver({
        rootDir,
        imagePath: config.SNAPSHOT_CACHE_BTRFS_IMAGE ?? `${rootDir.replace(/\/+$/, '')}.img`,
        imageBytes: config.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES,
        quotas: config.SNAPSHOT_CACHE_BTRFS_QUOTAS === 'on',
        imageBarriers: config.SNAPSHOT_CACHE_BTRFS_IMAGE_BARRIERS === 'on',
      });
    case 'copy':
      return new CopyDriver({ rootDir });
    case 'zfs':
      if (!config.SNAPSHOT_CACHE_ZFS_DATASET)
        throw new Error('SNAPSHOT_CACHE_ZFS_DATASET is required by the zfs driver');
      return new ZfsDriver({ rootDir, dataset: config.SNAPSHOT_CACHE_ZFS_DATASET });
    case 'lvm-thin':
      if (!config.SNAPSHOT_CACHE_LVM_VG || !config.SNAPSHOT_CACHE_LVM_POOL) {
        throw new Error('SNAPSHOT_CACHE_LVM_VG and SNAPSHOT_CACHE_LVM_POOL are required by the lvm-thin driver');
      }
      return new LvmThinDriver({
        rootDir,
        volumeGroup: config.SNAPSHOT_CACHE_LVM_VG,
        thinPool: config.SNAPSHOT_CACHE_LVM_POOL,
        volumeBytes: config.SNAPSHOT_CACHE_LVM_VOLUME_BYTES,
      });
  }
}
