import { chmod } from 'node:fs/promises';
import { chownTree, type OsUser, serverOsUser } from '@taidon/kit';
import { run } from './commands.js';
import type { CowDriver } from './driver.js';
import { LAYER_ID, Layout, VOLUME_ID } from './layout.js';

/** Options of the zfs driver. */
export interface ZfsDriverOptions {
  rootDir: string;
  /** Existing dataset under which `volumes` and `layers` datasets are made, e.g. `tank/taidon`. */
  dataset: string;
  osUser?: OsUser;
}

/**
 * A volume is a filesystem dataset `<dataset>/volumes/<id>`. A layer is a
 * read-only clone of a snapshot of the volume, promoted so that it owns the
 * snapshot and outlives the volume; volumes are cloned from the layer's
 * snapshot `@layer`. ZFS keeps the origin chain: a layer whose snapshot still
 * has clones (volumes or child layers) cannot be destroyed, and says so.
 */
export class ZfsDriver implements CowDriver {
  readonly name = 'zfs' as const;
  readonly atomicSnapshot = true;
  readonly cheapClones = true;
  readonly rootDir: string;
  private readonly layout: Layout;
  private readonly osUser: OsUser;

  constructor(private readonly options: ZfsDriverOptions) {
    this.rootDir = options.rootDir;
    this.layout = new Layout(options.rootDir);
    this.osUser = options.osUser ?? serverOsUser();
  }

  private dataset(kind: 'volumes' | 'layers', id?: string): string {
    return `${this.options.dataset}/${kind}${id === undefined ? '' : `/${id}`}`;
  }

  async prepare(): Promise<void> {
    await this.layout.ensure();
    for (const kind of ['volumes', 'layers'] as const) {
      const mountpoint = kind === 'volumes' ? this.layout.volumesDir : this.layout.layersDir;
      const exists = await run('zfs', ['list', '-H', '-o', 'name', this.dataset(kind)]).then(
        () => true,
        () => false,
      );
      if (!exists) await run('zfs', ['create', '-p', '-o', `mountpoint=${mountpoint}`, this.dataset(kind)]);
    }
    await this.layout.ensure();
  }

  async close(): Promise<void> {
    // ZFS mounts datasets itself; nothing was mounted by prepare.
  }

  async createVolume(id: string): Promise<string> {
    await run('zfs', ['create', this.dataset('volumes', id)]);
    const path = this.volumePath(id);
    await chmod(path, 0o700);
    await chownTree(path, this.osUser);
    return path;
  }

  async snapshotVolume(volumeId: string, layerId: string): Promise<string> {
    const snapshot = `${this.dataset('volumes', volumeId)}@${layerSnapshot(layerId)}`;
    await run('zfs', ['snapshot', snapshot]);
    await run('zfs', ['clone', '-o', 'readonly=on', snapshot, this.dataset('layers', layerId)]);
    await run('zfs', ['promote', this.dataset('layers', layerId)]);
    return this.layerPath(layerId);
  }

  async cloneLayer(layerId: string, volumeId: string): Promise<string> {
    const snapshot = `${this.dataset('layers', layerId)}@${layerSnapshot(layerId)}`;
    await run('zfs', ['clone', '-o', 'readonly=off', snapshot, this.dataset('volumes', volumeId)]);
    return this.volumePath(volumeId);
  }

  async destroyVolume(id: string): Promise<void> {
    if (await this.exists(this.dataset('volumes', id)))
      await run('zfs', ['destroy', '-r', this.dataset('volumes', id)]);
  }

  async destroyLayer(id: string): Promise<void> {
    if (await this.exists(this.dataset('layers', id))) await run('zfs', ['destroy', '-r', this.dataset('layers', id)]);
  }

  private exists(dataset: string): Promise<boolean> {
    return run('zfs', ['list', '-H', '-o', 'name', dataset]).then(
      () => true,
      () => false,
    );
  }

  volumePath(id: string): string {
    return this.layout.volumePath(id);
  }

  layerPath(id: string): string {
    return this.layout.layerPath(id);
  }

  /** `written` of a volume (since its origin), `referenced` of a layer. */
  async sizeBytes(kind: 'volume' | 'layer', id: string): Promise<number> {
    const property = kind === 'volume' ? 'written' : 'referenced';
    const dataset = this.dataset(kind === 'volume' ? 'volumes' : 'layers', id);
    return Number((await run('zfs', ['get', '-Hp', '-o', 'value', property, dataset])).trim());
  }

  async list(): Promise<{ volumes: string[]; layers: string[] }> {
    const children = async (kind: 'volumes' | 'layers', pattern: RegExp) =>
      (await run('zfs', ['list', '-H', '-o', 'name', '-d', '1', '-t', 'filesystem', this.dataset(kind)]))
        .split('\n')
        .map((name) => name.slice(this.dataset(kind).length + 1))
        .filter((id) => pattern.test(id))
        .sort();
    return { volumes: await children('volumes', VOLUME_ID), layers: await children('layers', LAYER_ID) };
  }

  async capacity(): Promise<{ totalBytes: number; freeBytes: number }> {
    const out = await run('zfs', ['get', '-Hp', '-o', 'value', 'used,available', this.options.dataset]);
    const [used = 0, available = 0] = out.trim().split('\n').map(Number);
    return { totalBytes: used + available, freeBytes: available };
  }

  /** `refquota` counts what the clone references, so the cap is the layer's size plus `maxBytes`. */
  async limitVolume(id: string, maxBytes: number): Promise<void> {
    const dataset = this.dataset('volumes', id);
    const referenced = Number((await run('zfs', ['get', '-Hp', '-o', 'value', 'referenced', dataset])).trim());
    await run('zfs', ['set', `refquota=${referenced + maxBytes}`, dataset]);
  }
}

function layerSnapshot(layerId: string): string {
  return `layer-${layerId.slice(0, 16)}`;
}
