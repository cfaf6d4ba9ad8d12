import type { SqlRunnerApi } from '@taidon/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { compareStates } from '../../../src/domain/compare/state.js';
import {
  StateReadError,
  snapshotOf,
  stateFromReads,
  stateReads,
  type WriteCompare,
} from '../../../src/domain/compare/state-read.js';
import { writeVerdict } from '../../../src/domain/write.js';
import { createDataset, type Dataset } from '../../helpers.js';

// The reads a write exercise runs after an answer on its clone (sql-runner's `reads`), here on two fresh
// databases of the test server: the state they answer, compared as an attempt compares it.

const START = `
  CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10,2) NOT NULL);
  CREATE TABLE orders (id int PRIMARY KEY, product_id int REFERENCES products, qty int NOT NULL);
  INSERT INTO products VALUES (1, 'tea', 'drinks', 4.00), (2, 'coffee', 'drinks', 5.50), (3, 'bread', 'bakery', 3.20),
    (4, E'o''brien\\n"quoted" ünï', 'bakery', 2.00);
  INSERT INTO orders VALUES (1, 1, 2), (2, 3, 1);
`;

const opened: Dataset[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

/**
 * Runs `sql` then the reads on a fresh copy of the start state, answering the reads as sql-runner would: a
 * result past `maxRows` (its RUN_MAX_ROWS, or the rows that fit in RUN_MAX_BYTES) is cut there, `truncated`.
 */
async function readsAfter(
  sql: string,
  compare: WriteCompare,
  maxRows = Number.POSITIVE_INFINITY,
): Promise<SqlRunnerApi.ThrowawayReadResult[]> {
  const dataset = await createDataset('ex_reads', START);
  opened.push(dataset);
  await dataset.client.query(sql);
  const answers: SqlRunnerApi.ThrowawayReadResult[] = [];
  for (const read of stateReads(compare)) {
    try {
      const result = await dataset.query(read);
      const truncated = result.rows.length > maxRows;
      const rows = result.rows.slice(0, maxRows);
      answers.push({ ok: true, command: 'SELECT', rowCount: rows.length, truncated, ms: 1, ...result, rows });
    } catch (error) {
      const e = error as { code: string; message: string };
      answers.push({ ok: false, ms: 1, error: { sqlstate: e.code, message: e.message, line: 1, column: 1 } });
    }
  }
  return answers;
}

async function grade(reference: string, answer: string, compare: WriteCompare) {
  const expected = stateFromReads(await readsAfter(reference, compare), compare, { strict: true });
  const actual = stateFromReads(await readsAfter(answer, compare), compare, { strict: false });
  return { expected, actual, verdict: compareStates(snapshotOf(expected), snapshotOf(actual), 2) };
}

describe('state reads of write exercises, as one statement after the answer', () => {
  const raise = "UPDATE products SET price = price * 1.10 WHERE category = 'drinks'";

  it('reads every table by digest and the named ones row by row, text kept byte for byte', async () => {
    const { expected, verdict } = await grade(
      raise,
      'UPDATE products SET price = round(price * 1.1, 2) WHERE id <= 2',
      {
        tables: ['products'],
      },
    );
    expect(verdict).toEqual({ passed: true });
    const products = expected.tables.find((t) => t.table === 'public.products');
    expect(products?.rows).toBe(4);
    expect(products?.content).toEqual(
      expect.arrayContaining(['(1,tea,drinks,4.40)', '(4,"o\'brien\n""quoted"" ünï",bakery,2.00)']),
    );
    expect(expected.tables.find((t) => t.table === 'public.orders')).toMatchObject({ rows: 2 });
    expect(expected.tables.find((t) => t.table === 'public.orders')?.content).toBeUndefined();
  });

  it('names the rows a dropped WHERE changed, and another table the answer changed', async () => {
    const noWhere = await grade(raise, 'UPDATE products SET price = price * 1.10', { tables: ['products'] });
    expect(noWhere.verdict).toMatchObject({
      passed: false,
      reason: 'tables',
      tables: [{ table: 'public.products', missingCount: 2, extraCount: 2 }],
      otherChanges: [],
    });
    const other = await grade(raise, `${raise}; DELETE FROM orders WHERE id = 2`, { tables: ['products'] });
    expect(other.verdict).toMatchObject({
      passed: false,
      reason: 'tables',
      tables: [],
      otherChanges: ['public.orders'],
    });
    const dropped = await grade(raise, 'DROP TABLE orders; DROP TABLE products', { tables: ['products'] });
    expect(dropped.verdict).toMatchObject({
      passed: false,
      tables: [{ table: 'public.products', missingCount: 4, extraCount: 0 }],
      otherChanges: ['public.orders'],
    });
  });

  it('compares the catalog of a DDL answer without index names, and a check query', async () => {
    const ddl =
      'ALTER TABLE products ADD COLUMN stock int NOT NULL DEFAULT 0; CREATE INDEX products_cat ON products (category)';
    const compare = { schema: true, check: 'SELECT id, stock FROM products ORDER BY id' };
    const right = await grade(
      ddl,
      'CREATE INDEX ON products (category); ALTER TABLE products ADD stock integer DEFAULT 0 NOT NULL',
      compare,
    );
    expect(right.verdict).toEqual({ passed: true });
    expect(right.expected.check?.rows).toEqual([
      ['1', '0'],
      ['2', '0'],
      ['3', '0'],
      ['4', '0'],
    ]);
    const wrongType = await grade(
      ddl,
      'ALTER TABLE products ADD COLUMN stock bigint NOT NULL DEFAULT 0; CREATE INDEX ON products (category)',
      compare,
    );
    expect(wrongType.verdict).toMatchObject({
      passed: false,
      reason: 'schema',
      schema: {
        missing: ['column public.products.stock integer NOT NULL DEFAULT 0'],
        extra: ['column public.products.stock bigint NOT NULL DEFAULT 0'],
      },
    });
  });

  it('reads the real catalog whatever the answer did to its session: a temporary view and a function of its own fake nothing', async () => {
    const index = 'CREATE INDEX ON orders (product_id)';
    // The answer creates no index: it shadows pg_index with a temporary view naming one more, and names that
    // row through its own pg_get_indexdef, reached by the search_path it leaves on the session.
    const faked = `CREATE FUNCTION public.pg_get_indexdef(oid) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 = 1 THEN 'CREATE INDEX orders_product_id_idx ON public.orders USING btree (product_id)'
                 ELSE pg_catalog.pg_get_indexdef($1) END $$;
CREATE TEMP VIEW pg_index AS
  SELECT indrelid, indexrelid FROM pg_catalog.pg_index UNION ALL SELECT 'public.orders'::regclass::oid, 1::oid;
SET search_path = pg_temp, public, pg_catalog`;
    const verdict = (await grade(index, faked, { schema: true })).verdict;
    expect(verdict).toMatchObject({
      passed: false,
      reason: 'schema',
      schema: { missing: ['index on public.orders: CREATE INDEX ON public.orders USING btree (product_id)'] },
    });
    // A function the answer adds to public, which the reference does not, is a change of its own.
    const added = await grade(
      index,
      `${index}; CREATE FUNCTION public.count(anyelement) RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      {
        schema: true,
      },
    );
    expect(added.verdict).toMatchObject({ passed: false, otherChanges: ['function public.count(anyelement)'] });
  });

  it('tells an answer that left a writing transaction open (its changes would be rolled back)', async () => {
    const open = await grade(raise, `BEGIN; ${raise}`, { tables: ['products'] });
    expect(open.actual.openTransaction).toBe(true);
    expect(open.expected.openTransaction).toBeUndefined();
    const committed = await grade(raise, `BEGIN; ${raise}; COMMIT`, { tables: ['products'] });
    expect(committed.actual.openTransaction).toBeUndefined();
    expect(committed.verdict).toEqual({ passed: true });
  });

  it('answers a check query that fails on the state an answer left as a StateReadError', async () => {
    const compare = { check: 'SELECT id, price FROM products ORDER BY id' };
    const reads = await readsAfter('ALTER TABLE products DROP COLUMN price', compare);
    expect(() => stateFromReads(reads, compare, { strict: false })).toThrow(StateReadError);
  });
});

/** What `read` throws, or undefined. */
function thrownBy(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('a named table the read cannot answer whole', () => {
  const compare = { tables: ['products'] };
  // The reference changes a row that sorts past a read cut at 4 rows (sql-runner's RUN_MAX_ROWS, or the rows
  // that fit in RUN_MAX_BYTES): the two tables' digest rows, then products' rows in order, (1,…) and (2,…).
  const reference = 'UPDATE products SET price = 9.99 WHERE id = 3';

  it('refuses a reference whose state read was cut, naming the table, instead of storing the cut rows', async () => {
    const reads = await readsAfter(reference, compare, 4);
    expect(reads[0]).toMatchObject({ ok: true, truncated: true });
    expect(thrownBy(() => stateFromReads(reads, compare, { strict: true }))).toMatchObject({
      code: 'EXERCISES_STATE_TOO_LARGE',
      details: { table: 'public.products', rows: 4, rowsRead: 2 },
    });
  });

  it('refuses a reference that leaves a named table past the row bound', async () => {
    const more = `${reference}; INSERT INTO products SELECT g, 'p' || g, 'bulk', 1 FROM generate_series(5, 10004) g`;
    const reads = await readsAfter(more, compare);
    expect(thrownBy(() => stateFromReads(reads, compare, { strict: true }))).toMatchObject({
      code: 'EXERCISES_STATE_TOO_LARGE',
      details: { table: 'public.products', rows: 10_004, limit: 10_000 },
    });
  });

  it('fails an answer that differs only past the rows read, by the named table’s digest', async () => {
    const expected = stateFromReads(await readsAfter(reference, compare), compare, { strict: true });
    // The answer leaves bread as it was; its read is cut before bread's row, so every row it read matches.
    const cut = stateFromReads(await readsAfter('SELECT 1', compare, 4), compare, { strict: false });
    const verdict = compareStates(snapshotOf(expected), snapshotOf(cut), 2);
    expect(verdict).toMatchObject({ passed: false, reason: 'tables', tables: [{ table: 'public.products' }] });
    expect(verdict.message).toContain('public.products');
    expect(cut.truncated).toBe(true);
    expect(writeVerdict(expected, cut, compare, 2)).toMatchObject({ passed: false, reason: 'tables' });
    // A reference stored cut before publishing refused it still tells a wrong answer from a right one.
    const storedCut = stateFromReads(await readsAfter(reference, compare, 4), compare, { strict: false });
    expect(compareStates(snapshotOf(storedCut), snapshotOf(cut), 2)).toMatchObject({ passed: false });
    const right = stateFromReads(await readsAfter(reference, compare, 4), compare, { strict: false });
    expect(compareStates(snapshotOf(storedCut), snapshotOf(right), 2)).toEqual({ passed: true });
  });
});
