import { fileURLToPath } from 'node:url';
import { CreateExercisePackRequest } from '@taidon/contracts';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatasetRunner, measureMutants } from '../../../src/domain/mutants/measure.js';
import { readPackDirectory } from '../../../src/domain/packs/directory.js';
import { packFromFiles } from '../../../src/domain/packs/files.js';
import { checkPack } from '../../../src/domain/packs/import.js';
import { loadParser } from '../../../src/domain/sql/tree.js';
import { createDataset, type Dataset } from '../../helpers.js';

// The example pack `npm start` loads (services/exercises/packs/bookshop): its files make a valid pack, every
// reference runs on the start state and on every hidden dataset, and its datasets kill most mutants of every
// reference (the same measure a publish runs, here on one database per dataset instead of throwaway clones).

const BOOKSHOP = fileURLToPath(new URL('../../../packs/bookshop', import.meta.url));
/** The kill score every exercise of the example pack reaches at least. */
const MIN_SCORE = 0.8;

const opened: Dataset[] = [];
beforeAll(async () => {
  await loadParser();
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
});

/** A dataset as the grader sees it: read-only, each query under a time limit. */
async function runner(name: string, sql: string): Promise<DatasetRunner & { data: Dataset }> {
  const data = await createDataset('ex_pack', sql);
  opened.push(data);
  await data.client.query("SET default_transaction_read_only = on; SET statement_timeout = '5s'");
  return { name, data, run: (query) => data.query(query) };
}

describe('the bookshop example pack', () => {
  it('is a pack of at least 15 exercises on one start state, within every bound of an import', async () => {
    const pack = packFromFiles(await readPackDirectory(BOOKSHOP));
    expect(
      Value.Check(CreateExercisePackRequest, pack),
      JSON.stringify([...Value.Errors(CreateExercisePackRequest, pack)][0]),
    ).toBe(true);
    checkPack(pack);
    expect(pack.slug).toBe('bookshop');
    expect(pack.exercises.length).toBeGreaterThanOrEqual(15);
    expect(pack.exercises.filter((e) => e.kind === 'write').length).toBeGreaterThanOrEqual(3);
    for (const exercise of pack.exercises) expect(exercise.datasets?.length).toBeGreaterThan(0);
  });

  it('names the file that is missing or malformed with 422 EXERCISES_PACK_FILE', async () => {
    const files = new Map(await readPackDirectory(BOOKSHOP));
    files.delete('exercises/cheap-books/solution.sql');
    expect(() => packFromFiles(files)).toThrow(
      expect.objectContaining({ code: 'EXERCISES_PACK_FILE', details: { path: 'exercises/cheap-books/solution.sql' } }),
    );
    files.set('pack.yaml', 'slug: [unclosed');
    expect(() => packFromFiles(files)).toThrow(expect.objectContaining({ details: { path: 'pack.yaml' } }));
  });

  it(`kills at least ${MIN_SCORE * 100} % of every reference's mutants with its hidden datasets`, async () => {
    const pack = packFromFiles(await readPackDirectory(BOOKSHOP));
    const datasets = new Map<string, DatasetRunner & { data: Dataset }>([
      ['start', await runner('start', pack.setup.sql)],
    ]);
    for (const exercise of pack.exercises) {
      for (const d of exercise.datasets ?? []) {
        if (!datasets.has(d.name)) datasets.set(d.name, await runner(d.name, `${pack.setup.sql}\n${d.sql}`));
      }
    }
    const lines = [
      '| exercise | mutants | killed | survivors | kill score | on the start state alone |',
      '|---|---|---|---|---|---|',
    ];
    const weak: string[] = [];
    for (const exercise of pack.exercises) {
      const runners = [
        datasets.get('start') as DatasetRunner & { data: Dataset },
        ...(exercise.datasets ?? []).map((d) => datasets.get(d.name) as DatasetRunner & { data: Dataset }),
      ];
      if (exercise.kind === 'write') {
        // A write's measure needs a fresh state per mutant: the platform's (apps/local/test/example-packs.test.ts).
        // Here its reference applies on every dataset, in a transaction rolled back.
        for (const r of runners) {
          await r.data.client.query('BEGIN READ WRITE');
          try {
            await r.data.client.query(exercise.solution);
          } finally {
            await r.data.client.query('ROLLBACK');
          }
        }
        continue;
      }
      // The reference itself runs everywhere (a reference that fails is refused at publish).
      for (const r of runners) await expect(r.run(exercise.solution)).resolves.toBeDefined();
      const report = await measureMutants(exercise.solution, runners, {
        ...(exercise.compare ? { compare: exercise.compare } : {}),
        equivalent: exercise.equivalentMutants ?? [],
      });
      const alone = await measureMutants(exercise.solution, runners.slice(0, 1), {
        ...(exercise.compare ? { compare: exercise.compare } : {}),
        equivalent: exercise.equivalentMutants ?? [],
      });
      const counted = report.killed + report.survivors.length;
      lines.push(
        `| ${exercise.slug} | ${counted} | ${report.killed} | ${report.survivors.map((s) => s.label).join('; ') || '—'} | ${report.score.toFixed(2)} | ${alone.score.toFixed(2)} |`,
      );
      if (report.score < MIN_SCORE) weak.push(`${exercise.slug} ${report.score.toFixed(2)}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    expect(weak).toEqual([]);
  }, 300_000);
});
