import type { RunEvent } from '@taidon/contracts';
import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChain } from '../../../src/domain/chain/index.js';
import { errorEvent, isServerError } from '../../../src/domain/runs/errors.js';
import { executeStep, type OutputLimits, TypeNames } from '../../../src/domain/runs/execute.js';

const limits: OutputLimits = { maxRows: 1000, maxBytes: 1_000_000, chunkRows: 2 };

describe('executeStep on a real server', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let catalog: pg.Client;
  let types: TypeNames;

  async function run(sql: string, options: OutputLimits = limits): Promise<RunEvent[]> {
    const { steps } = await planChain([{ path: 'head.sql', sql }], { engineVersion: '18' });
    const events: RunEvent[] = [];
    for (const step of steps) {
      try {
        await executeStep(client, step, step.index, (e) => events.push(e), options, types);
      } catch (error) {
        if (!isServerError(error)) throw error;
        events.push(errorEvent(error, step, 'execute', step.index));
        break;
      }
    }
    return events;
  }

  beforeAll(async () => {
    db = await createTestDatabase('runs_exec');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    catalog = new pg.Client({ connectionString: db.url });
    await catalog.connect();
    types = new TypeNames((use) => use(catalog));
    await client.query("SET TimeZone = 'Europe/Paris'; SET DateStyle = 'SQL, DMY'");
  });
  afterAll(async () => {
    await client.end();
    await catalog.end();
    await db.drop();
  });

  it('streams values as PostgreSQL prints them, with type names and NULL apart from the text NULL', async () => {
    const events = await run(
      `SELECT 1.10::numeric(10,2) AS price, 12345678901234567890::numeric AS big, NULL::text AS missing, 'NULL' AS word,
              timestamptz '2024-03-01 12:00:00+00' AS at, 'x'::varchar(20) AS v, ARRAY[1,2] AS a, '{"b": 1}'::jsonb AS j, 0.1::float8 + 0.2 AS f`,
    );
    expect(events[0]).toEqual({
      type: 'resultset',
      statement: 0,
      columns: [
        { name: 'price', type: 'numeric(10,2)' },
        { name: 'big', type: 'numeric' },
        { name: 'missing', type: 'text' },
        { name: 'word', type: 'text' },
        { name: 'at', type: 'timestamp with time zone' },
        { name: 'v', type: 'character varying(20)' },
        { name: 'a', type: 'integer[]' },
        { name: 'j', type: 'jsonb' },
        { name: 'f', type: 'double precision' },
      ],
    });
    expect(events[1]).toEqual({
      type: 'rows',
      statement: 0,
      rows: [
        [
          '1.10',
          '12345678901234567890',
          null,
          'NULL',
          '01/03/2024 13:00:00 CET',
          'x',
          '{1,2}',
          '{"b": 1}',
          '0.30000000000000004',
        ],
      ],
    });
    expect(events[2]).toEqual({ type: 'complete', statement: 0, command: 'SELECT', rowCount: 1, truncated: false });
  });

  it('names types the learner created, looked up on the catalog connection', async () => {
    const events = await run(
      "CREATE TYPE mood AS ENUM ('calm', 'busy');\nSELECT 'calm'::mood AS m, ARRAY['busy'::mood] AS ms;",
    );
    const resultset = events.find((e) => e.type === 'resultset');
    expect(resultset).toMatchObject({
      columns: [
        { name: 'm', type: 'mood' },
        { name: 'ms', type: 'mood[]' },
      ],
    });
  });

  it('sends rows in chunks and truncates at the row cap without reading the rest', async () => {
    // 10^8 rows produced lazily (each SRF alone is small); only 5 may ever be read.
    const events = await run(
      'SELECT a * 1000000 + b * 1000 + c AS g FROM generate_series(0, 99) a, generate_series(0, 999) b, generate_series(1, 1000) c',
      { ...limits, maxRows: 5 },
    );
    const rows = events.filter((e) => e.type === 'rows').flatMap((e) => (e.type === 'rows' ? e.rows : []));
    expect(rows).toHaveLength(5);
    expect(rows.every((row) => row.length === 1 && /^\d+$/.test(row[0] ?? ''))).toBe(true);
    expect(events.filter((e) => e.type === 'rows').length).toBe(3);
    expect(events.at(-1)).toEqual({ type: 'complete', statement: 0, command: 'SELECT', rowCount: 5, truncated: true });
  });

  it('truncates at the byte cap', async () => {
    const events = await run("SELECT repeat('x', 100) FROM generate_series(1, 50)", { ...limits, maxBytes: 350 });
    const rows = events.flatMap((e) => (e.type === 'rows' ? e.rows : []));
    expect(rows.length).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: 'complete', truncated: true, rowCount: 3 });
  });

  it('reports DML row counts, COPY in and out, and echo notices', async () => {
    const events = await run(
      "CREATE TABLE t (id int, note text);\nINSERT INTO t VALUES (1, 'a'), (2, NULL);\nCOPY t FROM stdin;\n3\ttab\\there\n4\t\\N\n\\.\nUPDATE t SET note = 'z' WHERE id > 1;\n\\echo done\nCOPY (SELECT id, note FROM t ORDER BY id) TO STDOUT;",
    );
    const completes = events.filter((e) => e.type === 'complete');
    expect(completes.map((e) => e.type === 'complete' && [e.command, e.rowCount])).toEqual([
      ['CREATE TABLE', null],
      ['INSERT', 2],
      ['COPY', 2],
      ['UPDATE', 3],
      ['COPY', 4],
    ]);
    expect(events).toContainEqual({ type: 'notice', severity: 'ECHO', message: 'done', statement: 4 });
    const copied = events
      .filter((e) => e.type === 'rows' && e.statement === 5)
      .flatMap((e) => (e.type === 'rows' ? e.rows : []));
    expect(copied).toEqual([['1\ta'], ['2\tz'], ['3\tz'], ['4\tz']]);
  });

  it('reports a runtime error with SQLSTATE, hint and its line and column in the head', async () => {
    const events = await run('SELECT 1;\nSELECT *\n  FROM missing_table;');
    expect(events.at(-1)).toEqual({
      type: 'error',
      phase: 'execute',
      statement: 1,
      sqlstate: '42P01',
      message: 'relation "missing_table" does not exist',
      path: 'head.sql',
      position: 17,
      line: 3,
      column: 8,
    });
    const division = await run('SELECT 1/0;');
    expect(division.at(-1)).toMatchObject({ sqlstate: '22012', message: 'division by zero', line: 1, column: 1 });
  });
});
