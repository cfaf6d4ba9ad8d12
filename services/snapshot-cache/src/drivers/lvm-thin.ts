import { chmod, mkdir, rm } from 'node:fs/promises';
import { chownTree, type OsUser, serverOsUser } from '@taidon/kit';
import { run } from './commands.js';
import type { CowDriver } from './driver.js';
import { LAYER_ID, Layout, pathExists, VOLUME_ID } from './layout.js';

/** Options of the lvm-thin driver. */
export interface LvmThinDriverOptions {
  rootDir: string;
  /** Volume group holding the thin pool. */
  volumeGroup: string;
  /** Thin pool (an existing thin-pool LV in the volume group). */
  thinPool: string;
  /** Virtual size of a new empty volume; thin, so it costs only what is written. */
  volumeBytes: number;
  osUser?: OsUser;
}

/**
 * A volume is a thin LV `tv-<id>` with an ext4 filesystem mounted at its
 * directory; a layer is a read-only thin snapshot `tl-<key>` mounted
 * read-only; a clone is a writable thin snapshot of the layer. Device-mapper
 * suspends (and so freezes) the filesystem while it snapshots, which keeps the
 * snapshot consistent; the journal is then clean, hence `noload` for layers.
 */
export class LvmThinDriver implements CowDriver {
  readonly name = 'lvm-thin' as const;
  readonly atomicSnapshot = true;
  readonly cheapClones = true;
  readonly rootDir: string;
  private readonly layout: Layout;
  private readonly osUser: OsUser;

  constructor(private readonly options: LvmThinDriverOptions) {
    this.rootDir = options.rootDir;
    this.layout = new Layout(options.rootDir);
    this.osUser = options.osUser ?? serverOsUser();
  }

  private lv(kind: 'volume' | 'layer', id: string): string {
    return `${this.options.volumeGroup}/${kind === 'volume' ? 'tv' : 'tl'}-${id}`;
  }

  private device(kind: 'volume' | 'layer', id: string): string {
    return `/dev/${this.lv(kind, id)}`;
  }

  /** Mounts every existing volume and layer that is not mounted yet (after a reboot). */
  async prepare(): Promise<void> {
    await this.layout.ensure();
    const mounted = new Set((await run('findmnt', ['-rn', '-o', 'TARGET'])).split('\n'));
    const { volumes, layers } = await this.logicalVolumes();
    for (const id of volumes) if (!mounted.has(this.volumePath(id))) await this.mount('volume', id);
    for (const id of layers) if (!mounted.has(this.layerPath(id))) await this.mount('layer', id);
  }

  async close(): Promise<void> {
    // Volumes stay mounted: instances may still run on them; prepare remounts what a reboot unmounted.
  }

  private async mount(kind: 'volume' | 'layer', id: string): Promise<string> {
    const path = kind === 'volume' ? this.volumePath(id) : this.layerPath(id);
    await run('lvchange', ['-ay', '-K', this.lv(kind, id)]);
    await mkdir(path, { recursive: true });
    await run('mount', ['-o', kind === 'volume' ? 'noatime' : 'ro,noload,noatime', this.device(kind, id), path]);
    return path;
  }

  async createVolume(id: string): Promise<string> {
    const { volumeGroup, thinPool, volumeBytes } = this.options;
    await run('lvcreate', ['-q', '-V', `${volumeBytes}b`, '-T', `${volumeGroup}/${thinPool}`, '-n', `tv-${id}`]);
    await run('mkfs.ext4', ['-q', '-E', 'nodiscard,root_owner=0:0', this.device('volume', id)]);
    const path = await this.mount('volume', id);
    await rm(`${path}/lost+found`, { recursive: true, force: true });
    await chmod(path, 0o700);
    await chownTree(path, this.osUser);
    return path;
  }

  async snapshotVolume(volumeId: string, layerId: string): Promise<string> {
    await run('lvcreate', ['-q', '-s', '-pr', '-n', `tl-${layerId}`, this.lv('volume', volumeId)]);
    return this.mount('layer', layerId);
  }

  async cloneLayer(layerId: string, volumeId: string): Promise<string> {
    await run('lvcreate', ['-q', '-s', '-prw', '-n', `tv-${volumeId}`, this.lv('layer', layerId)]);
    return this.mount('volume', volumeId);
  }

  destroyVolume(id: string): Promise<void> {
    return this.destroy('volume', id);
  }

  destroyLayer(id: string): Promise<void> {
    return this.destroy('layer', id);
  }

  private async destroy(kind: 'volume' | 'layer', id: string): Promise<void> {
    const path = kind === 'volume' ? this.volumePath(id) : this.layerPath(id);
    if (
      await run('findmnt', ['-n', '--mountpoint', path]).then(
        () => true,
        () => false,
      )
    )
      await run('umount', [path]);
    const { volumes, layers } = await this.logicalVolumes();
    if ((kind === 'volume' ? volumes : layers).includes(id)) await run('lvremove', ['-q', '-y', this.lv(kind, id)]);
    if (await pathExists(path)) await rm(path, { recursive: true, force: true });
  }

  volumePath(id: string): string {
    return this.layout.volumePath(id);
  }

  layerPath(id: string): string {
    return this.layout.layerPath(id);
  }

  /** Bytes of the thin pool the LV maps (data_percent of its virtual size); LVM cannot tell what is shared. */
  async sizeBytes(kind: 'volume' | 'layer', id: string): Promise<number> {
    const out = await run('lvs', [
      '--noheadings',
      '--units',
      'b',
      '--nosuffix',
      '-o',
      'lv_size,data_percent',
      this.lv(kind, id),
    ]);
    const [size = 0, percent = 0] = out.trim().split(/\s+/).map(Number);
    return Math.round((size * percent) / 100);
  }

  async list(): Promise<{ volumes: string[]; layers: string[] }> {
    return this.logicalVolumes();
  }

  private async logicalVolumes(): Promise<{ volumes: string[]; layers: string[] }> {
    const names = (await run('lvs', ['--noheadings', '-o', 'lv_name', this.options.volumeGroup]))
      .split('\n')
      .map((name) => name.trim());
    const ids = (prefix: string, pattern: RegExp) =>
      names
        .filter((name) => name.startsWith(prefix))
        .map((name) => name.slice(prefix.length))
        .filter((id) => pattern.test(id))
        .sort();
    return { volumes: ids('tv-', VOLUME_ID), layers: ids('tl-', LAYER_ID) };
  }

  /** Size and free space of the thin pool. */
  async capacity(): Promise<{ totalBytes: number; freeBytes: number }> {
    const pool = `${this.options.volumeGroup}/${this.options.thinPool}`;
    const out = await run('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_size,data_percent', pool]);
    const [size = 0, percent = 0] = out.trim().split(/\s+/).map(Number);
    return { totalBytes: size, freeBytes: Math.round(size * (1 - percent / 100)) };
  }
}
