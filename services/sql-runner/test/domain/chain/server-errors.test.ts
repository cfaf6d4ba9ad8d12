import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainError, planChain } from '../../../src/domain/chain/index.js';

/**
 * The planner reports a syntax error before anything runs; it must say what
 * the server itself would say for the same statement, at the same place.
 */
describe('syntax errors agree with the PostgreSQL server', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('chain_errors');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const statements = [
    'SELECT * FROM t WHERE;',
    "SELECT 'Ünï' frm t;",
    'CREATE TABLE (id int);',
    'SELECT 1 +;',
    "INSERT INTO t VALUES ('a', 'b'",
    'SELECT $$unterminated',
    'UPDATE t SET = 1;',
  ];
  for (const sql of statements) {
    it(`reports ${JSON.stringify(sql)} as the server does`, async () => {
      const server = await client.query(sql).then(
        () => undefined,
        (error: { message: string; position?: string; code?: string }) => error,
      );
      expect(server?.code).toBe('42601');
      let ours: ChainError | undefined;
      await planChain([{ path: 'q.sql', sql }], { engineVersion: '18' }).catch((error: ChainError) => {
        ours = error;
      });
      expect(ours?.details).toMatchObject({
        sqlstate: server?.code,
        message: server?.message,
        position: Number(server?.position),
        line: 1,
        column: Number(server?.position),
      });
    });
  }
});
