import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FileNotFoundError, LimitError, PathRefusedError, VcsSyncError, VersionMismatchError } from '../errors.js';
import { blobIdIn, FILE_MODES, type Repository, type TreeEntry } from '../git/repository.js';
import { checkPath, inspectPath, prepareFilePath } from './paths.js';
import {
  authorOf,
  type Caller,
  changeProject,
  checkGrowth,
  readProject,
  type Workspace,
  writeAtomically,
} from './workspace.js';

/** One file of a project's tree; `version` is its blob id, the ETag a write gives back in If-Match. */
export interface FileEntry {
  path: string;
  sizeBytes: number;
  version: string;
}

/** What a write, rename or delete did: the file's new version (null once deleted) and the commit it made. */
export interface FileChange {
  path: string;
  version: string | null;
  /** The commit that holds the change (HEAD unchanged when the text was already that). */
  commit: string;
  created: boolean;
}

/**
 * The precondition a change was based on. `ifMatch` is the version (blob id)
 * the client read, or `*` for "whatever exists"; `ifNoneMatch` asks that no
 * file be there yet.
 */
export interface Precondition {
  ifMatch?: string | undefined;
  ifNoneMatch?: boolean | undefined;
}

/** The regular file at `path` in `commit`, or undefined; a link, submodule or directory there is refused. */
async function fileAt(repo: Repository, commit: string, path: string): Promise<TreeEntry | undefined> {
  const [entry] = await repo.tree(commit, path);
  if (!entry) return undefined;
  if (entry.mode === '120000') throw new PathRefusedError('VCS_SYNC_SYMLINK', `${path} is a symbolic link.`);
  if (entry.type === 'tree') throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${path} is a directory.`);
  if (!FILE_MODES.has(entry.mode)) {
    throw new VcsSyncError('VCS_SYNC_UNSAFE_TREE', `${path} is not a plain file (mode ${entry.mode}).`);
  }
  return entry;
}

/** Applies the precondition to what is there now, refusing with 412 or 428 before anything is written. */
function checkPrecondition(path: string, current: string | null, condition: Precondition): void {
  if (condition.ifNoneMatch && current !== null) throw new VersionMismatchError(path, current);
  const given = condition.ifMatch;
  if (given === undefined) {
    if (current !== null && !condition.ifNoneMatch) {
      throw new VcsSyncError(
        'VCS_SYNC_VERSION_REQUIRED',
        `${path} exists: send If-Match with the version your change is based on.`,
        { details: { path, currentVersion: current } },
      );
    }
    return;
  }
  if (given === '*' ? current === null : given !== current) throw new VersionMismatchError(path, current);
}

/** Every file at HEAD, by path. */
export function listFiles(ws: Workspace, caller: Caller, projectId: string) {
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const commit = await repo.head();
    const files: FileEntry[] = (await repo.tree(commit))
      .filter((e) => e.type === 'blob' && FILE_MODES.has(e.mode))
      .map((e) => ({ path: e.path, sizeBytes: e.sizeBytes ?? 0, version: e.id }));
    return { commit, files };
  });
}

/** The text of a file at HEAD and its version. */
export function readFile(ws: Workspace, caller: Caller, projectId: string, rawPath: string) {
  const path = checkPath(rawPath);
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const entry = await fileAt(repo, await repo.head(), path);
    if (!entry) throw new FileNotFoundError(path);
    return { path, version: entry.id, text: await repo.blob(entry.id) };
  });
}

/** Puts `text` at `path` in the working tree (no link on the way) and stages it. */
export async function putFile(repo: Repository, path: string, text: string): Promise<void> {
  await prepareFilePath(repo.dir, path);
  await writeAtomically(repo.dir, join(repo.dir, path), text);
  await repo.stage([path]);
}

/**
 * Saves `text` at `path` as a commit authored by the caller, if the file is
 * still at the version the change was based on; otherwise 412 and nothing is
 * written: the stored file and the history stay as they were.
 */
export function writeFile(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  rawPath: string,
  text: string,
  condition: Precondition,
): Promise<FileChange> {
  const path = checkPath(rawPath);
  const bytes = Buffer.byteLength(text);
  if (bytes > ws.limits.fileMaxBytes) {
    throw new LimitError('VCS_SYNC_FILE_TOO_LARGE', `${path} is larger than a file may be.`, {
      limit: ws.limits.fileMaxBytes,
      wouldBe: bytes,
    });
  }
  return changeProject(ws, caller, projectId, async (row, repo) => {
    // Both read HEAD, which only changes under the project's lock, held here.
    const [head, entry] = await Promise.all([repo.head(), fileAt(repo, 'HEAD', path)]);
    const current = entry?.id ?? null;
    checkPrecondition(path, current, condition);
    const version = blobIdIn(head, text);
    if (version === current) return { path, version, commit: head, created: false };
    if (current === null) {
      const count = (await repo.tree(head)).length;
      if (count + 1 > ws.limits.projectMaxFiles) {
        throw new LimitError('VCS_SYNC_TOO_MANY_FILES', 'The project would have more files than it may.', {
          limit: ws.limits.projectMaxFiles,
          wouldBe: count + 1,
        });
      }
    }
    await checkGrowth(ws, caller, row, bytes);
    await putFile(repo, path, text);
    const commit = await repo.commitIndex(`Save ${path}`, authorOf(caller), head);
    return { path, version, commit, created: current === null };
  });
}

/** Deletes the file at `path` as a commit; with If-Match, only if it is still at that version. */
export function deleteFile(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  rawPath: string,
  condition: Precondition,
): Promise<FileChange> {
  const path = checkPath(rawPath);
  return changeProject(ws, caller, projectId, async (_row, repo) => {
    const current = (await fileAt(repo, await repo.head(), path))?.id ?? null;
    if (current === null) throw new FileNotFoundError(path);
    if (condition.ifMatch !== undefined) checkPrecondition(path, current, condition);
    if ((await inspectPath(repo.dir, path)) === 'file') await unlink(join(repo.dir, path));
    await repo.stage([path]);
    const commit = await repo.commit(`Delete ${path}`, authorOf(caller));
    return { path, version: null, commit, created: false };
  });
}

/** Renames a file as one commit; the target must be free; with If-Match, the source must be at that version. */
export function renameFile(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  request: { from: string; to: string },
  condition: Precondition,
): Promise<FileChange> {
  const from = checkPath(request.from);
  const to = checkPath(request.to);
  return changeProject(ws, caller, projectId, async (_row, repo) => {
    const head = await repo.head();
    const current = (await fileAt(repo, head, from))?.id ?? null;
    if (current === null) throw new FileNotFoundError(from);
    if (condition.ifMatch !== undefined) checkPrecondition(from, current, condition);
    if (from === to) return { path: to, version: current, commit: head, created: false };
    if ((await repo.tree(head, to)).length > 0) {
      throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${to} exists; delete it first or choose another name.`);
    }
    if ((await inspectPath(repo.dir, from)) !== 'file') throw new FileNotFoundError(from);
    if (await prepareFilePath(repo.dir, to)) {
      throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${to} exists; delete it first or choose another name.`);
    }
    await rename(join(repo.dir, from), join(repo.dir, to));
    await repo.stage([from, to]);
    const commit = await repo.commit(`Rename ${from} to ${to}`, authorOf(caller));
    return { path: to, version: current, commit, created: true };
  });
}
