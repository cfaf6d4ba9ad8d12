import { copyFile, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VcsSyncError } from '../errors.js';

/** The template every install has: a project with no files. */
export const EMPTY_TEMPLATE = 'empty';
/** How a template folder may be named (and so what a request may name). */
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Names of the templates a project can start from: `empty`, then every folder of the templates directory. */
export async function listTemplates(templatesDir: string): Promise<string[]> {
  const entries = await readdir(templatesDir, { withFileTypes: true }).catch(() => []);
  const folders = entries.filter((e) => e.isDirectory() && TEMPLATE_NAME.test(e.name)).map((e) => e.name);
  return [EMPTY_TEMPLATE, ...folders.filter((name) => name !== EMPTY_TEMPLATE).sort()];
}

/** The files of a template, relative paths with their sizes; a link inside one is refused, never followed. */
export async function templateFiles(
  templatesDir: string,
  name: string,
): Promise<{ path: string; sizeBytes: number }[]> {
  if (name === EMPTY_TEMPLATE) return [];
  if (!TEMPLATE_NAME.test(name) || !(await listTemplates(templatesDir)).includes(name)) {
    throw new VcsSyncError('VCS_SYNC_TEMPLATE_NOT_FOUND', `No project template ${name}.`, {
      details: { template: name.slice(0, 100) },
    });
  }
  const files: { path: string; sizeBytes: number }[] = [];
  const walk = async (relative: string) => {
    for (const entry of await readdir(join(templatesDir, name, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push({ path, sizeBytes: (await lstat(join(templatesDir, name, path))).size });
      else throw new Error(`template ${name} holds ${path}, which is not a plain file`);
    }
  };
  await walk('');
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** Copies the template's files (from templateFiles) into a new project's working tree. */
export async function copyTemplate(
  templatesDir: string,
  name: string,
  files: readonly { path: string }[],
  dir: string,
): Promise<void> {
  for (const { path } of files) {
    const slash = path.lastIndexOf('/');
    if (slash > 0) await mkdir(join(dir, path.slice(0, slash)), { recursive: true, mode: 0o755 });
    await copyFile(join(templatesDir, name, path), join(dir, path));
  }
}
