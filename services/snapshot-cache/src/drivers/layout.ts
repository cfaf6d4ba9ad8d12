import { access, chmod, mkdir, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** Volume ids are UUIDs; anything else under `volumes/` is not ours to list. */
export const VOLUME_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Layer ids are state keys: 64 lowercase hex digits (sha256). */
export const LAYER_ID = /^[0-9a-f]{64}$/;

/** Where volumes and layers live under one root directory. */
export class Layout {
  constructor(readonly rootDir: string) {}

  get volumesDir(): string {
    return join(this.rootDir, 'volumes');
  }

  get layersDir(): string {
    return join(this.rootDir, 'layers');
  }

  volumePath(id: string): string {
    return join(this.volumesDir, id);
  }

  layerPath(id: string): string {
    return join(this.layersDir, id);
  }

  /**
   * Creates the root, `volumes/` and `layers/` with mode 0711, so the
   * unprivileged PostgreSQL user can reach its data directory without listing
   * anybody else's.
   */
  async ensure(): Promise<void> {
    for (const dir of [this.rootDir, this.volumesDir, this.layersDir]) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o711);
    }
  }

  /** Ids of the volumes and layers present, by directory name. */
  async list(): Promise<{ volumes: string[]; layers: string[] }> {
    const names = async (dir: string, pattern: RegExp) =>
      (await readdir(dir).catch(() => [] as string[])).filter((name) => pattern.test(name)).sort();
    return { volumes: await names(this.volumesDir, VOLUME_ID), layers: await names(this.layersDir, LAYER_ID) };
  }

  /** Size and free space of the filesystem of the root (statfs, no command). */
  async capacity(): Promise<{ totalBytes: number; freeBytes: number }> {
    const fs = await statfs(this.rootDir);
    return { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
  }
}

/** Whether something exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
