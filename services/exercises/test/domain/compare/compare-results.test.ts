import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResults, type ResultCompareOptions } from '../../../src/domain/compare/compare-results.js';
import { planReference } from '../../../src/domain/compare/reference-order.js';
import type { ResultSet } from '../../../src/domain/compare/result-set.js';
import { loadParser } from '../../../src/domain/sql/tree.js';
import { createDataset, type Dataset } from '../../helpers.js';

const SCHEMA = `
  CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, dept text, salary numeric(10,2), bonus int);
  INSERT INTO employees VALUES
    (1, 'ann', 'eng', 100.00, NULL), (2, 'bob', 'eng', 100.00, 5), (3, 'cy', 'ops', 80.50, 3),
    (4, 'di', 'ops', 70.00, NULL), (5, 'ed', 'eng', 90.00, 2);
`;

let data: Dataset;

beforeAll(async () => {
  await loadParser();
  data = await createDataset('ex_cmp', SCHEMA);
});
afterAll(async () => {
  await data?.close();
});

/** Runs the reference keyed and the answer on the real database, and compares them. */
async function grade(reference: string, answer: string, options: ResultCompareOptions = {}) {
  const plan = planReference(reference);
  return compareResults(plan, await data.query(plan.sql), await data.query(answer), options);
}

describe('result comparison on PostgreSQL', () => {
  it('passes the reference itself, and an answer with the rows in another order when the reference has no ORDER BY', async () => {
    const reference = "SELECT name, salary FROM employees WHERE dept = 'eng'";
    expect(await grade(reference, reference)).toEqual({ passed: true });
    expect(await grade(reference, "SELECT name, salary FROM employees WHERE dept = 'eng' ORDER BY name DESC")).toEqual({
      passed: true,
    });
  });

  it('counts duplicates: a DISTINCT answer to a query with duplicate rows misses one', async () => {
    const verdict = await grade('SELECT dept FROM employees', 'SELECT DISTINCT dept FROM employees');
    expect(verdict).toMatchObject({ passed: false, reason: 'rows', missingCount: 3, extraCount: 0 });
    expect(verdict.message).toContain('3 expected rows are missing (your query returns 2 rows)');
  });

  it('says which rows are missing and which are extra', async () => {
    const verdict = await grade(
      'SELECT name FROM employees WHERE salary >= 90',
      'SELECT name FROM employees WHERE salary > 90',
    );
    expect(verdict).toMatchObject({
      passed: false,
      reason: 'rows',
      missingCount: 1,
      extraCount: 0,
      missingRows: [['ed']],
    });
    expect(verdict.message).toBe(
      "1 expected row is missing (your query returns 2 rows). For example ('ed') is expected.",
    );
    const extra = await grade(
      'SELECT name FROM employees WHERE salary > 90',
      'SELECT name FROM employees WHERE salary > 75',
    );
    expect(extra).toMatchObject({ reason: 'rows', missingCount: 0, extraCount: 2, extraRows: [['cy'], ['ed']] });
  });

  it('treats NULL as equal to NULL, and a NULL is not a zero', async () => {
    expect(
      await grade('SELECT name, bonus FROM employees', 'SELECT name, bonus FROM employees ORDER BY id DESC'),
    ).toEqual({
      passed: true,
    });
    const verdict = await grade('SELECT name, bonus FROM employees', 'SELECT name, coalesce(bonus, 0) FROM employees');
    expect(verdict).toMatchObject({ reason: 'rows', missingCount: 2, extraCount: 2 });
  });

  it('compares numbers by value across types, and within a tolerance when the exercise gives one', async () => {
    // numeric(10,2) prints 100.00; a learner's float or integer arithmetic prints 100.
    expect(await grade('SELECT salary FROM employees', 'SELECT salary::float8 FROM employees')).toEqual({
      passed: true,
    });
    const reference = 'SELECT avg(bonus) FROM employees';
    const rounded = 'SELECT round(avg(bonus), 2) FROM employees';
    expect(await grade(reference, rounded)).toMatchObject({ passed: false, reason: 'rows' });
    expect(await grade(reference, rounded, { tolerance: 0.01 })).toEqual({ passed: true });
  });

  it('fails on the columns before the rows: their count, their type family, their names when asked', async () => {
    const count = await grade('SELECT name, salary FROM employees', 'SELECT name FROM employees');
    expect(count).toMatchObject({
      passed: false,
      reason: 'columns',
      message: 'Your query returns 1 column; the task expects 2.',
    });
    expect(count.columns?.expected).toEqual([
      { name: 'name', type: 'text' },
      { name: 'salary', type: 'numeric(10,2)' },
    ]);
    const type = await grade('SELECT name, salary FROM employees', 'SELECT name, salary::text FROM employees');
    expect(type.message).toBe('Column 2 ("salary") is text; the task expects a number.');
    const reference = 'SELECT dept, count(*) AS staff FROM employees GROUP BY dept';
    const unnamed = 'SELECT dept, count(*)::int FROM employees GROUP BY dept';
    expect(await grade(reference, unnamed)).toEqual({ passed: true });
    expect(await grade(reference, unnamed, { columnNames: true })).toMatchObject({
      reason: 'columns',
      message: 'Column 2 is named "count"; the task expects "staff".',
    });
  });

  it('enforces the order an ORDER BY determines, with the key read from a hidden column the result does not show', async () => {
    const reference = 'SELECT name FROM employees ORDER BY salary DESC, name';
    const plan = planReference(reference);
    expect(plan).toMatchObject({ hasOrderBy: true, hiddenColumns: 1 });
    expect(await grade(reference, reference)).toEqual({ passed: true });
    const verdict = await grade(reference, 'SELECT name FROM employees ORDER BY name');
    expect(verdict).toMatchObject({
      passed: false,
      reason: 'order',
      orderDiffers: { row: 3, expected: ['ed'], actual: ['cy'] },
    });
    expect(verdict.message).toBe(
      "The rows are right but not in the order the task asks for, from row 3 on. Row 3 is ('cy'); expected ('ed') there.",
    );
    expect(await grade(reference, 'SELECT name FROM employees ORDER BY name', { ordered: false })).toEqual({
      passed: true,
    });
  });

  it('accepts any order among rows tied on every ORDER BY key', async () => {
    // ann and bob share the top salary; the reference says nothing about which comes first.
    const reference = 'SELECT name, salary FROM employees ORDER BY salary DESC';
    expect(await grade(reference, 'SELECT name, salary FROM employees ORDER BY salary DESC, name DESC')).toEqual({
      passed: true,
    });
    expect(await grade(reference, 'SELECT name, salary FROM employees ORDER BY 2 DESC, 1')).toEqual({ passed: true });
    expect(await grade(reference, 'SELECT name, salary FROM employees ORDER BY salary')).toMatchObject({
      reason: 'order',
    });
  });

  it('accepts any tied row where LIMIT cuts a tie group, and only those', async () => {
    const reference = 'SELECT name FROM employees ORDER BY salary DESC LIMIT 1';
    const plan = planReference(reference);
    expect(plan.window).toEqual({ offset: 0, count: 1 });
    expect(plan.sql).toContain('WITH TIES');
    expect((await data.query(plan.sql)).rows.map((r) => r[0]).sort()).toEqual(['ann', 'bob']);
    expect(await grade(reference, "SELECT 'ann'")).toEqual({ passed: true });
    expect(await grade(reference, "SELECT 'bob'")).toEqual({ passed: true });
    expect(await grade(reference, "SELECT 'ed'")).toMatchObject({ reason: 'rows', missingCount: 1, extraCount: 1 });
    expect(await grade(reference, "SELECT 'ann' UNION ALL SELECT 'bob'")).toMatchObject({
      reason: 'rows',
      extraCount: 1,
    });
  });

  it('accepts any tied row where OFFSET cuts a tie group, and keeps the order after it', async () => {
    const reference = 'SELECT name FROM employees ORDER BY salary DESC LIMIT 2 OFFSET 1';
    expect(await grade(reference, "VALUES ('ann'), ('ed')")).toEqual({ passed: true });
    expect(await grade(reference, "VALUES ('bob'), ('ed')")).toEqual({ passed: true });
    expect(await grade(reference, "VALUES ('ed'), ('bob')")).toMatchObject({
      reason: 'order',
      orderDiffers: { row: 1 },
    });
    expect(await grade(reference, "VALUES ('ann'), ('bob')")).toMatchObject({ reason: 'rows', missingCount: 1 });
  });

  it('still picks the rows a LIMIT and OFFSET select by the ORDER BY keys when order does not count', async () => {
    const reference = 'SELECT name FROM employees ORDER BY salary DESC LIMIT 2 OFFSET 2';
    expect(await grade(reference, "VALUES ('cy'), ('ed')", { ordered: false })).toEqual({ passed: true });
    expect(await grade(reference, "VALUES ('ann'), ('ed')", { ordered: false })).toMatchObject({
      reason: 'rows',
      missingCount: 1,
      extraCount: 1,
    });
  });

  it('orders a set operation by its output column names', async () => {
    const reference = "SELECT name FROM employees WHERE dept = 'ops' UNION SELECT 'zed' ORDER BY name DESC";
    expect(planReference(reference)).toMatchObject({ keys: [{ kind: 'output', name: 'name' }], hiddenColumns: 0 });
    expect(await grade(reference, "VALUES ('zed'), ('di'), ('cy')")).toEqual({ passed: true });
    expect(await grade(reference, "VALUES ('cy'), ('di'), ('zed')")).toMatchObject({ reason: 'order' });
  });

  it('reveals no row of a hidden dataset when told to show none', async () => {
    const verdict = await grade('SELECT name FROM employees', "SELECT name FROM employees WHERE name <> 'di'", {
      sampleRows: 0,
    });
    expect(verdict).toMatchObject({ reason: 'rows', missingCount: 1, missingRows: [], extraRows: [] });
    expect(verdict.message).toBe('1 expected row is missing (your query returns 4 rows).');
  });
});

describe('result comparison without a database', () => {
  const plan = (sql: string) => planReference(sql);
  const set = (rows: (string | null)[][], type = 'integer'): ResultSet => ({
    columns: [{ name: 'x', type }],
    rows,
  });

  it('refuses a reference that is not one SELECT, by code', () => {
    expect(() => plan('DELETE FROM t')).toThrow(expect.objectContaining({ code: 'EXERCISES_REFERENCE_NOT_A_QUERY' }));
    expect(() => plan('SELECT 1; SELECT 2')).toThrow(
      expect.objectContaining({ code: 'EXERCISES_REFERENCE_NOT_A_QUERY' }),
    );
    expect(() => plan('SELEC 1')).toThrow(expect.objectContaining({ code: 'EXERCISES_REFERENCE_SYNTAX' }));
  });

  it('keeps a LIMIT that is not a constant as written, and warns the author', () => {
    const p = plan('SELECT x FROM t ORDER BY x LIMIT (SELECT 1)');
    expect(p.window).toEqual({ offset: 0, count: null });
    expect(p.sql).not.toContain('WITH TIES');
    expect(p.warnings).toEqual([
      'The reference’s LIMIT or OFFSET is not a constant: rows tied at its edge are graded as the author’s.',
    ]);
  });

  it('warns of a LIMIT without ORDER BY, and of nothing in a well-ordered reference', () => {
    expect(plan('SELECT x FROM t LIMIT 3').warnings).toEqual([
      'The reference has LIMIT or OFFSET without ORDER BY: which rows it returns is left to chance.',
    ]);
    expect(plan('SELECT x FROM t ORDER BY x LIMIT 3 OFFSET 1').warnings).toEqual([]);
    expect(plan('SELECT x FROM t').warnings).toEqual([]);
  });

  it('bounds the rows it compares: an answer past the bound fails, a reference past it is refused by code', () => {
    const p = plan('SELECT x FROM t');
    const many = set(Array.from({ length: 11 }, (_, i) => [String(i)]));
    expect(compareResults(p, set([['1']]), many, { maxRows: 10 })).toMatchObject({
      passed: false,
      reason: 'rows',
      message: 'Your query returns more than 10 rows; the task expects 1 row or fewer.',
    });
    expect(() => compareResults(p, many, set([['1']]), { maxRows: 10 })).toThrow(
      expect.objectContaining({ code: 'EXERCISES_REFERENCE_TOO_LARGE', details: { limit: 10 } }),
    );
  });

  it('matches 10 000 rows within a tolerance by scanning only rows equal on their other columns', () => {
    const p = plan('SELECT k, x FROM t');
    const columns = [
      { name: 'k', type: 'text' },
      { name: 'x', type: 'double precision' },
    ];
    const reference = { columns, rows: Array.from({ length: 10_000 }, (_, i) => [`k${i}`, String(i / 3)]) };
    const answer = { columns, rows: reference.rows.map(([k, x]) => [k ?? null, Number(x).toFixed(4)]).reverse() };
    const started = performance.now();
    expect(compareResults(p, reference, answer, { tolerance: 0.001 })).toEqual({ passed: true });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('compares canonical decimals: 2.50 equals 2.5 and -0 equals 0', () => {
    const p = plan('SELECT x FROM t');
    expect(compareResults(p, set([['2.50'], ['-0']], 'numeric'), set([['2.5'], ['0']], 'numeric'))).toEqual({
      passed: true,
    });
    expect(compareResults(p, set([['2.50']], 'numeric'), set([['2.51']], 'numeric'))).toMatchObject({ passed: false });
  });
});
