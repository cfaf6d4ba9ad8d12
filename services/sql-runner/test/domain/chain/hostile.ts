import type { SourceFile } from '../../../src/domain/chain/index.js';

/**
 * The include bomb of issue 20: `files` files, each including the next
 * `times` times, the last one `SELECT 1;` — times^files steps from ~1 KB.
 * With `relative`, the files live in `dir/` and include each other with `\ir`.
 */
export function fanOutBomb(files: number, times: number, relative = false): SourceFile[] {
  const dir = relative ? 'dir/' : '';
  const command = relative ? '\\ir' : '\\i';
  const list: SourceFile[] = [];
  for (let i = 0; i < files; i++) {
    const sql = Array.from({ length: times }, () => `${command} ${relative ? '' : dir}f${i + 1}.sql`).join('\n');
    list.push({ path: `${dir}f${i}.sql`, sql, ...(i === 0 ? {} : { run: false }) });
  }
  list.push({ path: `${dir}f${files}.sql`, sql: 'SELECT 1;', run: false });
  return list;
}

/** `\set a x` then `\set a :a:a:a:a` `times` times: 4^times characters from ~16 bytes a line. */
export function setDoubling(times: number): string {
  return `\\set a x\n${'\\set a :a:a:a:a\n'.repeat(times)}SELECT length(:'a');\n`;
}
