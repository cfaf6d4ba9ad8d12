import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatasetRunner, measureMutants } from '../../../src/domain/mutants/measure.js';
import { loadParser } from '../../../src/domain/sql/tree.js';
import { ExercisesError } from '../../../src/errors.js';
import { createDataset, type Dataset } from '../../helpers.js';

const SCHEMA =
  'CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, dept text NOT NULL, salary int NOT NULL, bonus int);';

/** What authors write first: every pay distinct, no NULL bonus, the top earner inserted first. */
const PLAIN = `${SCHEMA}
  INSERT INTO employees VALUES (1, 'ann', 'eng', 100, 5), (2, 'bob', 'eng', 90, 3), (3, 'cy', 'ops', 120, 1), (4, 'ed', 'eng', 80, 2);`;

/** The data that tells wrong queries apart: a tie on the top pay, NULL bonuses, a department before 'eng', an early name with low pay. */
const TIES_AND_NULLS = `${SCHEMA}
  INSERT INTO employees VALUES (1, 'dan', 'eng', 90, NULL), (2, 'bob', 'eng', 95, 5), (3, 'ann', 'eng', 100, NULL),
    (4, 'cy', 'ops', 120, 1), (5, 'abe', 'design', 200, 0), (6, 'al', 'eng', 10, 1);`;

/** The top earner of eng, pay counting a missing bonus as none, the first name on a tie. */
const REFERENCE =
  "SELECT name, salary + coalesce(bonus, 0) AS pay FROM employees WHERE dept = 'eng' ORDER BY pay DESC, name LIMIT 1";

/** The mutants only ties and NULLs tell apart from the reference. */
const NEED_TIES_OR_NULLS = [
  'COALESCE(bonus, 0) → bonus (in SELECT)',
  '0 → 1 (in SELECT)',
  '0 → -1 (in SELECT)',
  'ORDER BY name ASC → DESC',
  'ORDER BY dropped',
  "dept = 'eng' → dept <= 'eng' (in WHERE)",
];

const opened: Dataset[] = [];

/** A dataset as the grader sees it: read-only, each query under a time limit. */
async function runner(name: string, sql: string): Promise<DatasetRunner> {
  const data = await createDataset('ex_mut', sql);
  opened.push(data);
  await data.client.query("SET default_transaction_read_only = on; SET statement_timeout = '5s'");
  return { name, run: (query) => data.query(query) };
}

beforeAll(async () => {
  await loadParser();
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
});

describe('the kill score of an exercise’s datasets on PostgreSQL', () => {
  it('lets tie-breaker, NULL and ORDER BY … LIMIT 1 mutants survive data without ties or NULLs, and a dataset with them kills them', async () => {
    const plain = await runner('plain', PLAIN);
    const better = await runner('ties-and-nulls', TIES_AND_NULLS);

    const before = await measureMutants(REFERENCE, [plain]);
    const after = await measureMutants(REFERENCE, [plain, better]);
    const table = (r: typeof before) =>
      `${r.killed}/${r.mutants - r.stillborn} killed (score ${r.score.toFixed(2)}); survivors: ${r.survivors.map((m) => m.label).join(' | ')}`;
    console.log(`plain only: ${table(before)}\nplain + ties-and-nulls: ${table(after)}`);

    const survivedBefore = before.survivors.map((m) => m.label);
    expect(survivedBefore).toEqual(expect.arrayContaining(NEED_TIES_OR_NULLS));
    const survivedAfter = after.survivors.map((m) => m.label);
    for (const label of NEED_TIES_OR_NULLS) expect(survivedAfter).not.toContain(label);
    expect(after.mutants).toBe(before.mutants);
    expect(after.killed).toBeGreaterThanOrEqual(before.killed + NEED_TIES_OR_NULLS.length);
    expect(after.score).toBeGreaterThan(before.score);
    expect(after.datasets.find((d) => d.name === 'ties-and-nulls')?.killed).toBeGreaterThan(
      after.datasets.find((d) => d.name === 'plain')?.killed ?? 0,
    );
    // Every survivor's SQL is there for the author to read, and runs.
    for (const survivor of after.survivors) await expect(better.run(survivor.sql)).resolves.toBeDefined();
  });

  it('leaves mutants the author marked equivalent out of the score, and those past the time budget unmeasured', async () => {
    const plain = await runner('plain', PLAIN);
    const better = await runner('ties-and-nulls', TIES_AND_NULLS);
    const marked = await measureMutants(REFERENCE, [plain, better], { equivalent: ['DISTINCT added'] });
    expect(marked).toMatchObject({ equivalent: 1, survivors: [], unmeasured: 0 });
    expect(marked.score).toBe(1);
    const rushed = await measureMutants(REFERENCE, [plain], { budgetMs: -1 });
    expect(rushed).toMatchObject({ killed: 0, survivors: [], unmeasured: rushed.mutants, score: 1 });
  });

  it('never kills the reference written another way, and counts a mutant that fails everywhere as stillborn', async () => {
    const data = await runner('plain', PLAIN);
    // Dropping a GROUP BY key the SELECT still shows fails on every database: such mutants say nothing about the data.
    const report = await measureMutants('SELECT dept, name, count(*) FROM employees GROUP BY dept, name', [data]);
    expect(report.stillborn).toBe(2);
    expect(report.survivors.map((m) => m.label)).not.toContain('GROUP BY key dept dropped');
    expect(report.killed + report.stillborn + report.survivors.length).toBe(report.mutants);
  });

  it('waits for the grader past its bound instead of counting a busy refusal as a kill, and stops on any other error', async () => {
    const data = await runner('plain', PLAIN);
    const alone = await measureMutants(REFERENCE, [data]);
    // Four datasets of the same data behind a grader that lets two run at once, as sql-runner's throwaway
    // bound per account does for states not yet held warm: every refusal past it is EXERCISES_GRADER_BUSY.
    let running = 0;
    let most = 0;
    let refused = 0;
    const bounded = (name: string): DatasetRunner => ({
      name,
      async run(sql) {
        if (running >= 2) {
          refused++;
          throw new ExercisesError('EXERCISES_GRADER_BUSY', 'Every grading instance is in use.', {
            details: { retryAfterSeconds: 1 },
          });
        }
        running++;
        most = Math.max(most, running);
        try {
          return await data.run(sql);
        } finally {
          running--;
        }
      },
    });
    const four = await measureMutants(REFERENCE, ['a', 'b', 'c', 'd'].map(bounded));
    expect(refused).toBeGreaterThan(0);
    expect(most).toBe(2);
    // The same data four times tells no more mutants apart than once: a refusal killed nothing.
    expect(four.killed).toBe(alone.killed);
    expect(four.survivors.map((m) => m.label)).toEqual(alone.survivors.map((m) => m.label));
    expect(four.stillborn).toBe(alone.stillborn);
    // Once the bound is found, later mutants start within it: no refusal per mutant.
    expect(refused).toBeLessThan(alone.mutants);

    const broken: DatasetRunner = {
      name: 'down',
      run: async (sql) => (sql.includes('DESC') ? data.run(sql) : Promise.reject(new Error('sql-runner answered 500'))),
    };
    await expect(measureMutants(REFERENCE, [broken])).rejects.toThrow('sql-runner answered 500');
  });
});
