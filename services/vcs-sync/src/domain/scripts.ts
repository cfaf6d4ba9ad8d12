import type { ScriptFile } from '@taidon/contracts';
import { VcsSyncError } from '../errors.js';
import { FILE_MODES, type TreeEntry } from '../git/repository.js';
import { commitOf } from './history.js';
import { type Caller, readProject, type Workspace } from './workspace.js';

/** A script the chain runs: a `.sql` file directly in `init/` or `seed/` (ARCHITECTURE §3). */
const CHAIN_SCRIPT = /^(init|seed)\/[^/]+\.sql$/i;
const SQL_FILE = /\.sql$/i;

/** The bounds a caller builds its chain within. */
export interface ScriptBounds {
  maxFiles: number;
  maxBytes: number;
}

/** Name order, by code unit: what `ls` does in the C locale, the same on every machine. */
const byPath = (a: TreeEntry, b: TreeEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The project's scripts at `ref` (the latest commit without it), as a chain
 * is built from them: `init/*.sql` then `seed/*.sql` in name order, to run;
 * then every other `.sql` file of the project, there only for `\i`/`\ir`.
 * Sizes are checked against `bounds` from the tree before any file is read;
 * a `.sql` entry that is not a plain file (a link, a submodule) is refused.
 */
export function chainScripts(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  query: { ref?: string | undefined } & ScriptBounds,
): Promise<{ commit: string; files: ScriptFile[] }> {
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const commit = query.ref === undefined ? await repo.head() : await commitOf(repo, query.ref);
    const entries = (await repo.tree(commit)).filter((e) => e.type !== 'tree' && SQL_FILE.test(e.path));
    const unsafe = entries.find((e) => e.type !== 'blob' || !FILE_MODES.has(e.mode));
    if (unsafe) throw new VcsSyncError('VCS_SYNC_UNSAFE_TREE', `${unsafe.path} is not a plain file.`);
    const runs = (folder: string) =>
      entries.filter((e) => CHAIN_SCRIPT.test(e.path) && e.path.split('/')[0]?.toLowerCase() === folder).sort(byPath);
    const chain = [...runs('init'), ...runs('seed')];
    const inChain = new Set(chain);
    const others = entries.filter((e) => !inChain.has(e)).sort(byPath);
    const bytes = entries.reduce((sum, e) => sum + (e.sizeBytes ?? 0), 0);
    for (const [limit, max, wouldBe] of [
      ['files', query.maxFiles, entries.length],
      ['bytes', query.maxBytes, bytes],
    ] as const) {
      if (wouldBe > max) {
        throw new VcsSyncError(
          'VCS_SYNC_SCRIPTS_TOO_LARGE',
          `The project's scripts hold more ${limit} than a chain may.`,
          {
            details: { limit, max, wouldBe },
          },
        );
      }
    }
    const files: ScriptFile[] = [];
    for (const entry of chain) files.push({ path: entry.path, sql: await repo.blob(entry.id) });
    for (const entry of others) files.push({ path: entry.path, sql: await repo.blob(entry.id), run: false });
    return { commit, files };
  });
}
