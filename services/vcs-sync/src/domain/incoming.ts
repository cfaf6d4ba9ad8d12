import { PathRefusedError, VcsSyncError } from '../errors.js';
import { INCOMING_REF } from '../git/remote.js';
import { FILE_MODES, type Repository } from '../git/repository.js';
import { checkPath } from './paths.js';
import type { Workspace } from './workspace.js';

const GIT_SEGMENT = /^\.git[. ]*$/i;

/** The files and bytes of a commit's tree, once it passed checkIncomingTree. */
export interface IncomingTree {
  files: number;
  bytes: number;
}

/**
 * Refuses a fetched commit whose tree a project may not hold, before any of
 * it reaches the working tree, each with its own code: a symbolic link
 * (never checked out or followed), a `.git` segment, a submodule, a path the
 * file API would refuse, a file past VCS_SYNC_FILE_MAX_BYTES, more files
 * than VCS_SYNC_PROJECT_MAX_FILES. Only the tree is read (`ls-tree`): no
 * blob is written out.
 */
export async function checkIncomingTree(ws: Workspace, repo: Repository, commit: string): Promise<IncomingTree> {
  const entries = await repo.tree(commit);
  let bytes = 0;
  for (const entry of entries) {
    const path = entry.path;
    const shown = { path: path.slice(0, 512) };
    if (path.split('/').some((segment) => GIT_SEGMENT.test(segment))) {
      throw new VcsSyncError('VCS_SYNC_REMOTE_GIT_PATH', 'The remote holds a path inside `.git`.', { details: shown });
    }
    if (entry.mode === '120000') {
      throw new VcsSyncError('VCS_SYNC_REMOTE_SYMLINK', 'The remote holds a symbolic link.', { details: shown });
    }
    if (entry.type === 'commit' || entry.mode === '160000') {
      throw new VcsSyncError('VCS_SYNC_REMOTE_SUBMODULE', 'The remote holds a submodule.', { details: shown });
    }
    try {
      checkPath(path);
    } catch (error) {
      if (!(error instanceof PathRefusedError)) throw error;
      throw new VcsSyncError('VCS_SYNC_REMOTE_UNSAFE_PATH', 'The remote holds a path a project may not have.', {
        details: shown,
      });
    }
    if (!FILE_MODES.has(entry.mode)) {
      throw new VcsSyncError('VCS_SYNC_REMOTE_UNSAFE_PATH', `The remote holds an entry of mode ${entry.mode}.`, {
        details: shown,
      });
    }
    const size = entry.sizeBytes ?? 0;
    if (size > ws.limits.fileMaxBytes) {
      throw new VcsSyncError('VCS_SYNC_FILE_TOO_LARGE', `${shown.path} is larger than a file may be.`, {
        details: { ...shown, limit: ws.limits.fileMaxBytes, wouldBe: size },
      });
    }
    bytes += size;
  }
  if (entries.length > ws.limits.projectMaxFiles) {
    throw new VcsSyncError('VCS_SYNC_TOO_MANY_FILES', 'The remote has more files than a project may hold.', {
      details: { limit: ws.limits.projectMaxFiles, wouldBe: entries.length },
    });
  }
  return { files: entries.length, bytes };
}

/**
 * Forgets what a refused fetch brought: the private ref goes, and the
 * objects only it reached are pruned at once, so a refused repository
 * leaves no bytes behind (and none count against the quota).
 */
export async function dropIncoming(repo: Repository): Promise<void> {
  await repo.git.run(repo.dir, ['update-ref', '-d', INCOMING_REF]);
  await repo.git.run(repo.dir, ['gc', '--quiet', '--prune=now']);
}
