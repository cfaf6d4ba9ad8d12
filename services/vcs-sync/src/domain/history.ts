import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitError, VcsSyncError } from '../errors.js';
import { type CommitInfo, FILE_MODES, type Repository } from '../git/repository.js';
import { putFile } from './files.js';
import { checkPath, inspectPath } from './paths.js';
import { authorOf, type Caller, changeProject, checkGrowth, readProject, type Workspace } from './workspace.js';

/** Most commits one history answer lists. */
export const MAX_HISTORY = 200;

/** The full id of the commit `rev` names in `repo`; 422 VCS_SYNC_COMMIT_NOT_FOUND when it names none. */
export async function commitOf(repo: Repository, rev: string): Promise<string> {
  const commit = await repo.resolveCommit(rev);
  if (!commit) {
    throw new VcsSyncError('VCS_SYNC_COMMIT_NOT_FOUND', 'No such commit in this project.', {
      details: { commit: rev.slice(0, 64) },
    });
  }
  return commit;
}

/** The project's commits, newest first; with `path`, those that changed that file. */
export function history(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  query: { path?: string | undefined; limit?: number | undefined },
): Promise<{ commits: CommitInfo[] }> {
  const path = query.path === undefined ? undefined : checkPath(query.path);
  const limit = Math.min(query.limit ?? 50, MAX_HISTORY);
  return readProject(ws, caller, projectId, async (_row, repo) => ({ commits: await repo.log(limit, path) }));
}

/** What changed between two commits: the files, and the unified diff cut at VCS_SYNC_DIFF_MAX_BYTES. */
export function diff(ws: Workspace, caller: Caller, projectId: string, query: { from: string; to: string }) {
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const from = await commitOf(repo, query.from);
    const to = await commitOf(repo, query.to);
    const files = await repo.changedFiles(from, to);
    const whole = Buffer.from(await repo.patch(from, to));
    const truncated = whole.length > ws.limits.diffMaxBytes;
    // Cut on a character boundary: the replacement character at a split one is dropped.
    const patch = truncated
      ? whole
          .subarray(0, ws.limits.diffMaxBytes)
          .toString('utf8')
          .replace(/\uFFFD$/, '')
      : whole.toString('utf8');
    return { from, to, files, patch, truncated };
  });
}

/** What a restore did: the new commit (HEAD unchanged when nothing differed). */
export interface RestoreResult {
  commit: string;
  restoredFrom: string;
  path: string | null;
  changed: boolean;
}

/**
 * Makes a file (or, without `path`, the whole tree) what it was at `commit`,
 * as a new commit on top of the history, which is never rewritten. A file
 * that did not exist then is deleted now. A commit holding a link or a
 * submodule is not restored.
 */
export function restore(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  request: { commit: string; path?: string | undefined },
): Promise<RestoreResult> {
  const path = request.path === undefined ? undefined : checkPath(request.path);
  return changeProject(ws, caller, projectId, async (row, repo) => {
    const from = await commitOf(repo, request.commit);
    const head = await repo.head();
    const short = from.slice(0, 12);
    const unchanged: RestoreResult = { commit: head, restoredFrom: from, path: path ?? null, changed: false };
    if (path !== undefined) {
      const [then] = await repo.tree(from, path);
      const [now] = await repo.tree(head, path);
      if (then && (then.type !== 'blob' || !FILE_MODES.has(then.mode))) {
        throw new VcsSyncError('VCS_SYNC_UNSAFE_TREE', `${path} was not a plain file at ${short}.`);
      }
      if (then?.id === now?.id) return unchanged;
      if (then) {
        const text = await repo.blob(then.id);
        await checkGrowth(ws, caller, row, Buffer.byteLength(text));
        await putFile(repo, path, text);
      } else {
        if ((await inspectPath(repo.dir, path)) === 'file') await unlink(join(repo.dir, path));
        await repo.stage([path]);
      }
    } else {
      const entries = await repo.tree(from);
      const unsafe = entries.find((e) => e.type !== 'blob' || !FILE_MODES.has(e.mode));
      if (unsafe) throw new VcsSyncError('VCS_SYNC_UNSAFE_TREE', `${unsafe.path} at ${short} is not a plain file.`);
      if (entries.length > ws.limits.projectMaxFiles) {
        throw new LimitError('VCS_SYNC_TOO_MANY_FILES', 'The restored tree would have more files than it may.', {
          limit: ws.limits.projectMaxFiles,
          wouldBe: entries.length,
        });
      }
      const sum = (list: { sizeBytes: number | null }[]) => list.reduce((n, e) => n + (e.sizeBytes ?? 0), 0);
      await checkGrowth(ws, caller, row, sum(entries) - sum(await repo.tree(head)));
      await repo.checkoutTree(from);
    }
    if (!(await repo.hasStagedChanges())) return unchanged;
    const message = path === undefined ? `Restore the project as at ${short}` : `Restore ${path} as at ${short}`;
    const commit = await repo.commit(message, authorOf(caller));
    return { commit, restoredFrom: from, path: path ?? null, changed: true };
  });
}
