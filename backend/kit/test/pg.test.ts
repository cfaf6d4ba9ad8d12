import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction } from '../src/pg.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe('withTransaction', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('kit_tx');
  });
  afterAll(async () => db.drop());

  it("commits what the work wrote, rolls back all of it when the work throws, and answers the work's error", async () => {
    const pool = createPool(db.url, { applicationName: 'test', max: 1 });
    try {
      await pool.query('CREATE TABLE notes (id int PRIMARY KEY)');
      expect(await withTransaction(pool, async (c) => (await c.query('INSERT INTO notes VALUES (1)')).rowCount)).toBe(
        1,
      );
      const failing = withTransaction(pool, async (c) => {
        await c.query('INSERT INTO notes VALUES (2)');
        throw new Error('the work failed');
      });
      await expect(failing).rejects.toThrow('the work failed');
      const { rows } = await pool.query<{ id: number }>('SELECT id FROM notes ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([1]);
      // The client went back to the pool (of one) outside any transaction.
      const { rows: state } = await pool.query<{ tx: boolean }>('SELECT now() = statement_timestamp() AS tx');
      expect(state[0]?.tx).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('drops a client whose connection went during the work instead of handing it to the next caller', async () => {
    const pool = createPool(db.url, { applicationName: 'test', max: 1 });
    try {
      const killed = withTransaction(pool, async (c) => {
        await c.query('SELECT pg_terminate_backend(pg_backend_pid())');
      });
      await expect(killed).rejects.toThrow();
      // The pool of one opens a new connection: the next caller is served.
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      expect(pool.totalCount).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
