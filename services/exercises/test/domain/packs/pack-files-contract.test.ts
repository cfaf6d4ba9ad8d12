import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPackDirectory } from '../../../src/domain/packs/directory.js';
import { packFromFiles } from '../../../src/domain/packs/files.js';

// A pack built from files (a directory, a project at a commit) is checked by the contract's schema as a pack
// sent as JSON is (issue 18's review): a value the schema refuses is 422 EXERCISES_PACK_FILE naming its file
// and field, never a cast that every attempt would pay for.

const BOOKSHOP = fileURLToPath(new URL('../../../packs/bookshop', import.meta.url));
const YAML = 'exercises/cheap-books/exercise.yaml';

async function bookshopWith(edit: (files: Map<string, string>) => void) {
  const files = new Map(await readPackDirectory(BOOKSHOP));
  edit(files);
  return () => packFromFiles(files);
}

describe("a pack's files checked by the contract", () => {
  it.each([
    ['compare.tables a string', 'compare:\n  tables: x\n', 'compare.tables'],
    ['an unknown kind', 'kind: delete\n', 'kind'],
    ['a kill score above 1', 'minKillScore: 7\n', 'minKillScore'],
    ['equivalent mutants not strings', 'equivalentMutants: [1, 2]\n', 'equivalentMutants.0'],
    ['a table name outside the pattern', 'kind: write\ncompare:\n  tables: ["books; drop"]\n', 'compare.tables.0'],
  ])('refuses %s in exercise.yaml, naming the file and the field', async (_what, extra, field) => {
    const build = await bookshopWith((files) => files.set(YAML, `${files.get(YAML)}\n${extra}`));
    expect(build).toThrow(expect.objectContaining({ code: 'EXERCISES_PACK_FILE', details: { path: YAML, field } }));
  });

  it('refuses more hidden datasets than an exercise may have (8)', async () => {
    const build = await bookshopWith((files) => {
      const names = Array.from({ length: 9 }, (_, i) => `d${i}`);
      for (const name of names) files.set(`exercises/cheap-books/datasets/${name}.sql`, 'SELECT 1;');
      files.set(YAML, `title: Cheap books\ndatasets: [${names.join(', ')}]\n`);
    });
    expect(build).toThrow(
      expect.objectContaining({ code: 'EXERCISES_PACK_FILE', details: { path: YAML, field: 'datasets' } }),
    );
  });

  it('refuses a check query past 16 KiB', async () => {
    const check = `SELECT count(*) FROM books WHERE title <> '${'x'.repeat(17 * 1024)}'`;
    const build = await bookshopWith((files) =>
      files.set(YAML, `title: Cheap books\nkind: write\ncompare:\n  check: "${check}"\n`),
    );
    expect(build).toThrow(
      expect.objectContaining({ code: 'EXERCISES_PACK_FILE', details: { path: YAML, field: 'compare.check' } }),
    );
  });

  it('names the solution file when the solution is empty', async () => {
    const build = await bookshopWith((files) => files.set('exercises/cheap-books/solution.sql', ''));
    const path = 'exercises/cheap-books/solution.sql';
    expect(build).toThrow(expect.objectContaining({ code: 'EXERCISES_PACK_FILE', details: { path } }));
  });

  it('still builds the bookshop as it is', async () => {
    expect((await bookshopWith(() => {}))().exercises.length).toBeGreaterThanOrEqual(15);
  });
});
