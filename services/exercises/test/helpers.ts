import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import type { ResultSet } from '../src/domain/compare/result-set.js';
import { QueryFailed } from '../src/domain/mutants/measure.js';

/** Every value as PostgreSQL's own text, as sql-runner streams it. */
const TEXT = { getTypeParser: () => (value: string) => value };

/** One fresh database on the test run's server, built by `setupSql`, with a client logged in to it. */
export interface Dataset {
  db: TestDatabase;
  client: pg.Client;
  /**
   * Runs one query and answers its result set as sql-runner would (text values, `format_type` type names);
   * the query's own SQL error or time limit is thrown as `QueryFailed`, as the platform's dataset runner does.
   */
  query(sql: string): Promise<ResultSet>;
  close(): Promise<void>;
}

export async function createDataset(prefix: string, setupSql: string): Promise<Dataset> {
  const db = await createTestDatabase(prefix);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(setupSql);
  return {
    db,
    client,
    query: (sql) =>
      queryResult(client, sql).catch((error: unknown) => {
        throw error instanceof pg.DatabaseError ? new QueryFailed(error.message, error) : error;
      }),
    async close() {
      await client.end();
      await db.drop();
    },
  };
}

/** A query's result set with text values and the column types `format_type` names. */
export async function queryResult(client: pg.ClientBase, sql: string): Promise<ResultSet> {
  // Several statements (a read's guard, then the read) answer one result each: the last is the read's.
  const answered = (await client.query({ text: sql, rowMode: 'array', types: TEXT })) as unknown as
    | pg.QueryArrayResult
    | pg.QueryArrayResult[];
  const result = Array.isArray(answered) ? (answered.at(-1) as pg.QueryArrayResult) : answered;
  const { rows: names } = await client.query<{ name: string }>({
    text: 'SELECT format_type(o, NULLIF(m, -1)) AS name FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(o, m, n) ORDER BY n',
    values: [result.fields.map((f) => f.dataTypeID), result.fields.map((f) => f.dataTypeModifier)],
  });
  return {
    columns: result.fields.map((f, i) => ({ name: f.name, type: names[i]?.name ?? String(f.dataTypeID) })),
    rows: result.rows as (string | null)[][],
  };
}
