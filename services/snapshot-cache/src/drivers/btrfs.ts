import { chmod, mkdir, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chownTree, type OsUser, serverOsUser } from '@taidon/kit';
import { run, succeeds } from './commands.js';
import type { CowDriver } from './driver.js';
import { Layout, pathExists } from './layout.js';

/** statfs magic number of btrfs (BTRFS_SUPER_MAGIC). */
export const BTRFS_MAGIC = 0x9123683e;
/** Below this, the image is made with mixed block groups, which btrfs recommends for small filesystems. */
const MIXED_BELOW_BYTES = 1024 ** 3;

/** Options of the btrfs driver. */
export interface BtrfsDriverOptions {
  rootDir: string;
  /** Sparse image mounted at the root when the root is not on btrfs already. */
  imagePath: string;
  /** Size of that image when it has to be created. */
  imageBytes: number;
  /** Owner of volumes; defaults to serverOsUser(). */
  osUser?: OsUser;
  /**
   * Whether to account space with qgroups (and cap clones with them). Off by
   * default: with a few hundred subvolumes under quota every snapshot costs
   * seconds (ADR 0010); sizes then come from `btrfs filesystem du`, and a
   * sandbox's disk use is bounded by sql-runner instead.
   */
  quotas?: boolean;
  /**
   * Whether the image this driver mounts keeps btrfs's write barriers. Off by default: the image is a cache
   * of states that can be rebuilt from their SQL, and with barriers every snapshot's transaction commit
   * flushes the loop device, i.e. fsyncs the whole image file on the host, with whatever the sandboxes wrote
   * since (a snapshot took 20–30 ms instead of 6–10 ms with writes pending; ADR 0014). A filesystem this
   * driver did not mount keeps its own options.
   */
  imageBarriers?: boolean;
}

/** Whether `path` lives on a btrfs filesystem. */
export async function isOnBtrfs(path: string): Promise<boolean> {
  return (await statfs(path)).type === BTRFS_MAGIC;
}

/**
 * Volumes are subvolumes, layers read-only snapshots of them, clones writable
 * snapshots of layers: each one `btrfs subvolume` command, milliseconds
 * whatever the size. Space is accounted by qgroups when quotas can be
 * enabled, otherwise by `btrfs filesystem du`.
 */
export class BtrfsDriver implements CowDriver {
  readonly name = 'btrfs' as const;
  readonly atomicSnapshot = true;
  readonly cheapClones = true;
  readonly rootDir: string;
  private readonly layout: Layout;
  private readonly osUser: OsUser;
  private quotas = false;
  private mounted = false;

  constructor(private readonly options: BtrfsDriverOptions) {
    this.rootDir = options.rootDir;
    this.layout = new Layout(options.rootDir);
    this.osUser = options.osUser ?? serverOsUser();
  }

  /** Whether qgroups account space (and cap clones) on this filesystem. */
  get hasQuotas(): boolean {
    return this.quotas;
  }

  async prepare(): Promise<void> {
    await mkdir(this.rootDir, { recursive: true });
    if (!(await isOnBtrfs(this.rootDir))) await this.mountImage();
    await this.layout.ensure();
    const enabled = await succeeds('btrfs', ['qgroup', 'show', this.rootDir]);
    if (this.options.quotas) {
      this.quotas = enabled || (await succeeds('btrfs', ['quota', 'enable', this.rootDir]));
      return;
    }
    // Our own image: switch off what an earlier run with quotas left on. Someone else's filesystem: leave it be.
    if (enabled && this.mounted) await run('btrfs', ['quota', 'disable', this.rootDir]);
    this.quotas = false;
  }

  private async mountImage(): Promise<void> {
    const { imagePath, imageBytes } = this.options;
    if (!(await pathExists(imagePath))) {
      await mkdir(dirname(imagePath), { recursive: true });
      await run('truncate', ['-s', String(imageBytes), imagePath]);
      await run('mkfs.btrfs', ['-q', ...(imageBytes < MIXED_BELOW_BYTES ? ['--mixed'] : []), imagePath]);
    }
    const options = ['loop', 'noatime', ...(this.options.imageBarriers ? [] : ['nobarrier'])];
    await run('mount', ['-o', options.join(','), imagePath, this.rootDir]);
    this.mounted = true;
  }

  async close(): Promise<void> {
    if (!this.mounted) return;
    // `-o loop` set autoclear on the loop device, so unmounting releases it too.
    await run('umount', [this.rootDir]);
    this.mounted = false;
  }

  async createVolume(id: string): Promise<string> {
    const path = this.volumePath(id);
    await run('btrfs', ['subvolume', 'create', path]);
    await chmod(path, 0o700);
    await chownTree(path, this.osUser);
    return path;
  }

  async snapshotVolume(volumeId: string, layerId: string): Promise<string> {
    const path = this.layerPath(layerId);
    await run('btrfs', ['subvolume', 'snapshot', '-r', this.volumePath(volumeId), path]);
    return path;
  }

  async cloneLayer(layerId: string, volumeId: string): Promise<string> {
    const path = this.volumePath(volumeId);
    await run('btrfs', ['subvolume', 'snapshot', this.layerPath(layerId), path]);
    return path;
  }

  async destroyVolume(id: string): Promise<void> {
    await this.deleteSubvolume(this.volumePath(id));
  }

  async destroyLayer(id: string): Promise<void> {
    await this.deleteSubvolume(this.layerPath(id));
  }

  private async deleteSubvolume(path: string): Promise<void> {
    if (await pathExists(path)) await run('btrfs', ['subvolume', 'delete', path]);
  }

  volumePath(id: string): string {
    return this.layout.volumePath(id);
  }

  layerPath(id: string): string {
    return this.layout.layerPath(id);
  }

  async sizeBytes(kind: 'volume' | 'layer', id: string): Promise<number> {
    const path = kind === 'volume' ? this.volumePath(id) : this.layerPath(id);
    if (this.quotas) {
      // A fresh layer's counts are committed by the snapshot itself; a volume may have writes pending.
      const sync = kind === 'volume' ? ['--sync'] : [];
      const out = await run('btrfs', ['qgroup', 'show', '--raw', ...sync, '-f', path]);
      const row = /^0\/\d+\s+(\d+)\s+(\d+)/m.exec(out);
      if (row) return Number(kind === 'volume' ? row[2] : row[1]);
    }
    const out = await run('btrfs', ['filesystem', 'du', '-s', '--raw', path]);
    const row = /^\s*(\d+)\s+(\d+)\s+(\d+|-)\s/m.exec(out.split('\n').slice(1).join('\n'));
    if (!row) throw new Error(`cannot read the size of ${path} from btrfs filesystem du`);
    return Number(kind === 'volume' ? row[2] : row[1]);
  }

  list(): Promise<{ volumes: string[]; layers: string[] }> {
    return this.layout.list();
  }

  capacity(): Promise<{ totalBytes: number; freeBytes: number }> {
    return this.layout.capacity();
  }

  /** Caps the volume's exclusive bytes (what it writes beyond its layer); a no-op without quotas. */
  async limitVolume(id: string, maxBytes: number): Promise<void> {
    if (!this.quotas) return;
    await run('btrfs', ['qgroup', 'limit', '-e', String(maxBytes), this.volumePath(id)]);
  }
}
