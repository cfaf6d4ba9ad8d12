import { readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { runCommand } from '@taidon/kit';

/** mountinfo escapes spaces, tabs, newlines and backslashes in paths as octal. */
const unescapeMountPath = (path: string) =>
  path.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

const resolved = (path: string) => realpath(path).catch(() => path);

/**
 * Whether `root` is, right now, the mount point of a loop device backed by `imagePath`: the layer store's image,
 * mounted by an earlier run that did not stop (a `kill -9`). The btrfs driver then finds the root on btrfs and
 * does not count the mount as its own, so nothing would unmount it; the launcher does, when it stops.
 */
export async function imageMountedAt(root: string, imagePath: string): Promise<boolean> {
  const [mountinfo, target, image] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
    resolved(root),
    resolved(imagePath),
  ]);
  for (const line of mountinfo.split('\n')) {
    const [fields, after] = line.split(' - ');
    if (!fields || !after || unescapeMountPath(fields.split(' ')[4] ?? '') !== target) continue;
    const source = after.split(' ')[1] ?? '';
    if (!/^\/dev\/loop\d+$/.test(source)) continue;
    const backing = await readFile(`/sys/block/${basename(source)}/loop/backing_file`, 'utf8').catch(() => '');
    if (backing.trim() === image) return true;
  }
  return false;
}

/** Unmounts the layer store's image (autoclear releases its loop device). */
export async function unmountLayerStore(root: string): Promise<void> {
  await runCommand('umount', [root], { timeoutMs: 30_000 });
}
