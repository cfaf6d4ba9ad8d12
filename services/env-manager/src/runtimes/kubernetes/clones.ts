import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where instances' clones live in a cluster: on the nodes with fast local
 * disks, made and freed by the node agent (snapshot-cache as a DaemonSet).
 * The reconciler only asks for a clone on a node, then mounts it through a
 * `local` PersistentVolume at the path answered, and frees it through the
 * instance's finalizer.
 */
export interface CloneStore {
  /**
   * The node where an instance of `layerKey` should run, among `nodes` (Ready and schedulable): where its layer
   * is deepest, else where clones are fewest.
   */
  place(layerKey: string, nodes: string[]): Promise<string>;
  /** Makes the clone of `layerKey` for the instance `uid` on `node`, or answers the one it already has. */
  create(request: { uid: string; layerKey: string; node: string }): Promise<{ path: string }>;
  /** Frees the instance's clone; nothing when it has none. */
  free(uid: string): Promise<void>;
  /**
   * Uids of the instances that hold a clone, for the orphan sweep; with `olderThanMs`, only clones made at least
   * that long ago (a clone being made now is never an orphan's).
   */
  list(options?: { olderThanMs?: number }): Promise<string[]>;
}

/**
 * A clone store on one filesystem, a directory per node and per instance,
 * standing in for the node agent until it exists: what it proves is the
 * reconciler's side (placement asked once, the path on the PV, freed once by
 * the finalizer, orphans freed), not copy-on-write, which snapshot-cache's
 * drivers prove.
 */
export function createDirectoryCloneStore(root: string): CloneStore {
  const marker = 'TAIDON_CLONE';
  async function nodesOnDisk(): Promise<string[]> {
    return (await readdir(root).catch(() => [])).sort();
  }
  async function find(uid: string): Promise<string | undefined> {
    for (const node of await nodesOnDisk()) {
      const path = join(root, node, uid);
      const ok = await readFile(join(path, marker), 'utf8').then(
        () => true,
        () => false,
      );
      if (ok) return path;
    }
    return undefined;
  }
  return {
    async place(_layerKey, nodes) {
      if (nodes.length === 0) throw new Error('no Ready node to place a clone on');
      const counts = await Promise.all(
        nodes.map(async (node) => (await readdir(join(root, node)).catch(() => [])).length),
      );
      let best = 0;
      for (let i = 1; i < nodes.length; i++) if ((counts[i] ?? 0) < (counts[best] ?? 0)) best = i;
      return nodes[best] as string;
    },
    async create({ uid, layerKey, node }) {
      const existing = await find(uid);
      if (existing) return { path: existing };
      const path = join(root, node, uid);
      await mkdir(path, { recursive: true, mode: 0o700 });
      // Written last: a clone without it is a half-made one, which find() does not answer.
      await writeFile(join(path, marker), `${layerKey}\n`);
      return { path };
    },
    async free(uid) {
      for (const node of await nodesOnDisk()) await rm(join(root, node, uid), { recursive: true, force: true });
    },
    async list(options) {
      const uids: string[] = [];
      const before = Date.now() - (options?.olderThanMs ?? 0);
      for (const node of await nodesOnDisk()) {
        for (const uid of await readdir(join(root, node)).catch(() => [])) {
          const made = await stat(join(root, node, uid)).then(
            (s) => s.birthtimeMs || s.mtimeMs,
            () => Number.POSITIVE_INFINITY,
          );
          if (options?.olderThanMs === undefined || made <= before) uids.push(uid);
        }
      }
      return uids;
    },
  };
}
