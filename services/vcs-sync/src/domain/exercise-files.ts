import type { VcsSyncApi } from '@taidon/contracts';
import { VcsSyncError } from '../errors.js';
import { FILE_MODES, type TreeEntry } from '../git/repository.js';
import { commitOf } from './history.js';
import type { ScriptBounds } from './scripts.js';
import { type Caller, readProject, type Workspace } from './workspace.js';

/** The start state's scripts: `.sql` files directly in `init/` or `seed/`, as a chain runs them. */
const CHAIN_SCRIPT = /^(init|seed)\/[^/]+\.sql$/i;
/** An exercise's files: its YAML, Markdown and SQL under `exercises/`. */
const EXERCISE_FILE = /^exercises\/.+\.(?:ya?ml|md|sql)$/i;

const byPath = (a: TreeEntry, b: TreeEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The files of the exercises authored in a project at `ref` (the latest commit without it): the start
 * state's `init/*.sql` then `seed/*.sql` in name order, then what is under `exercises/` by path. Sizes are
 * checked against `bounds` from the tree before any file is read (413 VCS_SYNC_SCRIPTS_TOO_LARGE); an entry
 * that is not a plain file (a link, a submodule) is refused (VCS_SYNC_UNSAFE_TREE).
 */
export function exerciseFiles(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  query: { ref?: string | undefined } & ScriptBounds,
): Promise<VcsSyncApi.ProjectExerciseFiles> {
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const commit = query.ref === undefined ? await repo.head() : await commitOf(repo, query.ref);
    const tree = (await repo.tree(commit)).filter((e) => e.type !== 'tree');
    const folder = (name: string) =>
      tree.filter((e) => CHAIN_SCRIPT.test(e.path) && e.path.split('/')[0]?.toLowerCase() === name).sort(byPath);
    const entries = [
      ...folder('init'),
      ...folder('seed'),
      ...tree.filter((e) => EXERCISE_FILE.test(e.path)).sort(byPath),
    ];
    const unsafe = entries.find((e) => e.type !== 'blob' || !FILE_MODES.has(e.mode));
    if (unsafe) throw new VcsSyncError('VCS_SYNC_UNSAFE_TREE', `${unsafe.path} is not a plain file.`);
    const bytes = entries.reduce((sum, e) => sum + (e.sizeBytes ?? 0), 0);
    for (const [limit, max, wouldBe] of [
      ['files', query.maxFiles, entries.length],
      ['bytes', query.maxBytes, bytes],
    ] as const) {
      if (wouldBe > max) {
        throw new VcsSyncError(
          'VCS_SYNC_SCRIPTS_TOO_LARGE',
          `The project's exercise files hold more ${limit} than allowed.`,
          {
            details: { limit, max, wouldBe },
          },
        );
      }
    }
    const files: VcsSyncApi.ProjectExerciseFiles['files'] = [];
    for (const entry of entries) files.push({ path: entry.path, text: await repo.blob(entry.id) });
    return { commit, files };
  });
}
