import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PathRefusedError } from '../errors.js';

/** Longest path a project file may have, in characters. */
export const MAX_PATH_CHARS = 512;
/** Longest single segment, in bytes (what most filesystems allow). */
const MAX_SEGMENT_BYTES = 255;

/**
 * Checks a project path from a stranger before it meets the disk or git, each
 * refusal with its own code: relative, `/`-separated, no empty, `.` or `..`
 * segment, no `.git` segment in any case (nor `.git` followed by dots or
 * spaces, which some filesystems read as `.git`), no backslash, no control
 * character. Answers the path as given (it is already normal).
 */
export function checkPath(path: string): string {
  if (path.length === 0 || path.length > MAX_PATH_CHARS) {
    throw new PathRefusedError('VCS_SYNC_PATH_INVALID', `A path has 1 to ${MAX_PATH_CHARS} characters.`);
  }
  if (path.startsWith('/')) throw new PathRefusedError('VCS_SYNC_PATH_ABSOLUTE', 'Paths are relative to the project.');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f\\]/.test(path)) {
    throw new PathRefusedError('VCS_SYNC_PATH_INVALID', 'A path has no backslash and no control character.');
  }
  const segments = path.split('/');
  if (segments.includes('..')) throw new PathRefusedError('VCS_SYNC_PATH_TRAVERSAL', 'A path has no `..` segment.');
  for (const segment of segments) {
    if (segment === '' || segment === '.') {
      throw new PathRefusedError('VCS_SYNC_PATH_INVALID', 'A path has no empty or `.` segment.');
    }
    if (/^\.git[. ]*$/i.test(segment)) {
      throw new PathRefusedError('VCS_SYNC_PATH_GIT_DIR', 'A path has no `.git` segment.');
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw new PathRefusedError('VCS_SYNC_PATH_INVALID', `A path segment has at most ${MAX_SEGMENT_BYTES} bytes.`);
    }
  }
  return path;
}

/** What lies at a checked path inside the project, seen without following any link. */
export type OnDisk = 'absent' | 'file' | 'directory';

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Walks a checked path from the project root with lstat, one segment at a
 * time: a symbolic link anywhere on the way (or at the end) is refused, never
 * followed; a file where a directory must be is a conflict. Answers what is
 * at the end.
 */
export async function inspectPath(root: string, path: string): Promise<OnDisk> {
  const segments = path.split('/');
  let at = root;
  for (const [index, segment] of segments.entries()) {
    at = join(at, segment);
    const stats = await lstatOrUndefined(at);
    if (!stats) return 'absent';
    if (stats.isSymbolicLink()) {
      throw new PathRefusedError('VCS_SYNC_SYMLINK', `${segments.slice(0, index + 1).join('/')} is a symbolic link.`);
    }
    const last = index === segments.length - 1;
    if (last) return stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : refuseSpecial(path);
    if (!stats.isDirectory()) {
      throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${segments.slice(0, index + 1).join('/')} is a file.`);
    }
  }
  return 'absent';
}

function refuseSpecial(path: string): never {
  throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${path} is neither a file nor a directory.`);
}

/**
 * Makes the directories a new file at `path` needs, checking each with lstat
 * first (inspectPath) so none is made through a link; refuses a directory at
 * the file's own place. Answers whether a file is already there.
 */
export async function prepareFilePath(root: string, path: string): Promise<boolean> {
  const found = await inspectPath(root, path);
  if (found === 'directory') throw new PathRefusedError('VCS_SYNC_PATH_CONFLICT', `${path} is a directory.`);
  const slash = path.lastIndexOf('/');
  if (slash > 0) await mkdir(join(root, path.slice(0, slash)), { recursive: true, mode: 0o755 });
  return found === 'file';
}
