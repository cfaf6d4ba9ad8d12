import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { MAX_PACK_TEXT_BYTES } from '@taidon/contracts';
import { ExercisesError } from '../../errors.js';
import { MAX_PACK_FILES, type PackFiles } from './files.js';

/** The files a pack is made of; anything else in its directory (a README, notes) is not read. */
const PACK_FILE = /\.(?:ya?ml|md|sql)$/;

/**
 * A pack's directory as its files (`packFromFiles` reads them): the YAML,
 * Markdown and SQL under it, at most MAX_PACK_FILES files and
 * MAX_PACK_TEXT_BYTES in all (EXERCISES_PACK_TOO_LARGE), symbolic links not
 * followed.
 */
export async function readPackDirectory(root: string): Promise<PackFiles> {
  const files = new Map<string, string>();
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      if (!entry.isFile() || !PACK_FILE.test(entry.name)) continue;
      bytes += (await stat(path)).size;
      if (files.size >= MAX_PACK_FILES || bytes > MAX_PACK_TEXT_BYTES) {
        throw new ExercisesError('EXERCISES_PACK_TOO_LARGE', `The pack at ${root} holds too many files or bytes.`, {
          details: { limit: MAX_PACK_FILES, limitBytes: MAX_PACK_TEXT_BYTES },
        });
      }
      files.set(relative(root, path).split(sep).join('/'), await readFile(path, 'utf8'));
    }
  };
  await walk(root);
  return files;
}
