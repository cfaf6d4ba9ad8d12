import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chownTree, type OsUser, serverOsUser } from '@taidon/kit';
import { run, translateDiskFull } from './commands.js';
import type { CowDriver } from './driver.js';
import { Layout } from './layout.js';

/** Options of the copy driver. */
export interface CopyDriverOptions {
  rootDir: string;
  /** Owner of volumes; defaults to serverOsUser(). */
  osUser?: OsUser;
  /**
   * Protect layers with a read-only bind mount of themselves (O(1), refused
   * even to root). Needs root; without it layers are read-only by convention.
   * Defaults to whether the process is root.
   */
  bindReadOnly?: boolean;
}

const PARTIAL = '.partial';

/**
 * Layers and clones are full copies (`cp -a --reflink=auto`: reflinks where
 * the filesystem has them, such as btrfs or XFS, bytes otherwise). Correct
 * everywhere, but the source must not change while it is copied, so a
 * volume's server is stopped before a snapshot (`atomicSnapshot` is false).
 * Copies go to a `.partial` name and are renamed when complete, so a failed or
 * interrupted copy never shows up as a layer or volume.
 */
export class CopyDriver implements CowDriver {
  readonly name = 'copy' as const;
  readonly atomicSnapshot = false;
  // cp --reflink=auto may copy every byte: a clone made ahead could cost a whole data directory.
  readonly cheapClones = false;
  readonly rootDir: string;
  private readonly layout: Layout;
  private readonly osUser: OsUser;
  private readonly bindReadOnly: boolean;
  private readonly boundLayers = new Set<string>();

  constructor(options: CopyDriverOptions) {
    this.rootDir = options.rootDir;
    this.layout = new Layout(options.rootDir);
    this.osUser = options.osUser ?? serverOsUser();
    this.bindReadOnly = options.bindReadOnly ?? process.getuid?.() === 0;
  }

  async prepare(): Promise<void> {
    await this.layout.ensure();
    for (const dir of [this.layout.volumesDir, this.layout.layersDir]) {
      for (const name of await readdir(dir)) {
        if (name.endsWith(PARTIAL)) await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    if (!this.bindReadOnly) return;
    const mounts = new Set((await run('findmnt', ['-rn', '-o', 'TARGET'])).split('\n'));
    for (const id of (await this.layout.list()).layers) {
      if (!mounts.has(this.layerPath(id))) await this.protect(id);
      this.boundLayers.add(id);
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.boundLayers]) {
      await run('umount', [this.layerPath(id)]);
      this.boundLayers.delete(id);
    }
  }

  async createVolume(id: string): Promise<string> {
    const path = this.volumePath(id);
    await mkdir(path, { mode: 0o700 }).catch(translateDiskFull);
    await chmod(path, 0o700);
    await chownTree(path, this.osUser);
    return path;
  }

  async snapshotVolume(volumeId: string, layerId: string): Promise<string> {
    const path = await this.copy(this.volumePath(volumeId), this.layerPath(layerId));
    if (this.bindReadOnly) {
      await this.protect(layerId).catch(async (error) => {
        await rm(path, { recursive: true, force: true });
        throw error;
      });
      this.boundLayers.add(layerId);
    }
    return path;
  }

  cloneLayer(layerId: string, volumeId: string): Promise<string> {
    return this.copy(this.layerPath(layerId), this.volumePath(volumeId));
  }

  private async copy(from: string, to: string): Promise<string> {
    const partial = `${to}${PARTIAL}`;
    try {
      await rm(partial, { recursive: true, force: true });
      await run('cp', ['-a', '--reflink=auto', '--', from, partial]);
      await rename(partial, to);
      return to;
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      return translateDiskFull(error);
    }
  }

  private async protect(layerId: string): Promise<void> {
    const path = this.layerPath(layerId);
    await run('mount', ['-o', 'bind,ro', path, path]);
  }

  async destroyVolume(id: string): Promise<void> {
    await rm(this.volumePath(id), { recursive: true, force: true });
  }

  async destroyLayer(id: string): Promise<void> {
    if (this.boundLayers.has(id)) {
      await run('umount', [this.layerPath(id)]);
      this.boundLayers.delete(id);
    }
    await rm(this.layerPath(id), { recursive: true, force: true });
  }

  volumePath(id: string): string {
    return this.layout.volumePath(id);
  }

  layerPath(id: string): string {
    return this.layout.layerPath(id);
  }

  /** Allocated bytes (`du`); the filesystem cannot tell what reflinked copies share, so both kinds count everything. */
  async sizeBytes(kind: 'volume' | 'layer', id: string): Promise<number> {
    const path = kind === 'volume' ? this.volumePath(id) : this.layerPath(id);
    const out = await run('du', ['-s', '--block-size=1', '--', path]);
    return Number(/^(\d+)/.exec(out)?.[1] ?? Number.NaN);
  }

  list(): Promise<{ volumes: string[]; layers: string[] }> {
    return this.layout.list();
  }

  capacity(): Promise<{ totalBytes: number; freeBytes: number }> {
    return this.layout.capacity();
  }
}
