import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { CommandError, runCommand } from '@taidon/kit';
import { DiskFullError } from '../errors.js';

/** Default bound of one storage command; snapshots take milliseconds, copies of big volumes much longer. */
export const COMMAND_TIMEOUT_MS = 10 * 60_000;

// The storage tools exit 1 for every failure, so the errno is only in their
// stderr; LC_ALL=C pins that text to strerror(ENOSPC) / strerror(EDQUOT).
const C_LOCALE = { ...process.env, LC_ALL: 'C', LANG: 'C' };
const DISK_FULL_TEXT = /No space left on device|Disk quota exceeded/;
const DISK_FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT']);

/** Whether `error` says the filesystem is full, from a command's strerror text or a Node errno code. */
export function isDiskFull(error: unknown): boolean {
  if (error instanceof DiskFullError) return true;
  if (error instanceof CommandError) return DISK_FULL_TEXT.test(error.stderr);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && DISK_FULL_ERRNO.has(code);
}

/** Rethrows a full-disk failure as DiskFullError (SNAPSHOT_CACHE_DISK_FULL), anything else as it is. */
export function translateDiskFull(error: unknown): never {
  if (error instanceof DiskFullError) throw error;
  if (isDiskFull(error)) throw new DiskFullError(error);
  throw error;
}

/** Runs a storage command in the C locale; a full disk becomes DiskFullError. Resolves with stdout. */
export async function run(file: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  try {
    return (await runCommand(file, args, { timeoutMs, env: C_LOCALE })).stdout;
  } catch (error) {
    return translateDiskFull(error);
  }
}

/** Runs a command and tells only whether it exited 0 (for probes such as `findmnt`). */
export async function succeeds(file: string, args: readonly string[], timeoutMs = 30_000): Promise<boolean> {
  try {
    await runCommand(file, args, { timeoutMs, env: C_LOCALE });
    return true;
  } catch {
    return false;
  }
}

/** Whether an executable named `name` is on PATH (or in the sbin directories root's PATH usually has). */
export async function commandAvailable(name: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}
