import { execFileSync } from 'node:child_process';
import { chown, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** An OS account to run PostgreSQL as; `undefined` ids mean "the current user". */
export interface OsUser {
  name: string;
  uid: number | undefined;
  gid: number | undefined;
}

/** Name of the unprivileged account created when Taidon runs as root. */
export const SERVER_OS_USER = 'taidon-pg';

function lookup(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root. As root, this returns (creating it once
 * with useradd if needed) an unprivileged system account; otherwise the
 * current user, which needs no switching.
 */
export function serverOsUser(): OsUser {
  if (process.getuid?.() !== 0) return { name: 'current', uid: undefined, gid: undefined };
  let ids = lookup(SERVER_OS_USER);
  if (!ids) {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_OS_USER], {
        stdio: 'ignore',
      });
    } catch {
      // A concurrent start may have created it; the lookup below decides.
    }
    ids = lookup(SERVER_OS_USER) ?? lookup('nobody');
  }
  if (!ids) throw new Error(`cannot find or create an unprivileged user to run PostgreSQL as`);
  return { name: SERVER_OS_USER, ...ids };
}

/** Gives `path` and everything below it to `user` (no-op when not switching users). */
export async function chownTree(path: string, user: OsUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  await chown(path, user.uid, user.gid);
  const info = await stat(path);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), user);
}
