import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../../src/domain/runs/catalog.js';
import { CATALOG_CAPS } from '../../../src/domain/runs/catalog-sql.js';

// The schema browser's catalog queries on a real PostgreSQL: what they answer, and that a learner's huge
// schema costs a bounded answer.

describe('readCatalog on a real PostgreSQL', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('sr_catalog');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('keeps names as written (mixed case, spaces, reserved words) and composite keys, foreign across schemas', async () => {
    await client.query(`
      CREATE SCHEMA "Sales";
      CREATE TABLE "Sales"."Order Lines" ("order" int, line int, "Qty" int NOT NULL, PRIMARY KEY ("order", line));
      CREATE TABLE public.refs (o int, l int, FOREIGN KEY (o, l) REFERENCES "Sales"."Order Lines" ("order", line));`);
    const schema = await readCatalog(client);
    expect(schema.schemas).toEqual(['Sales', 'public']);
    const lines = schema.tables.find((t) => t.name === 'Order Lines');
    expect(lines?.schema).toBe('Sales');
    expect(lines?.keys).toEqual([{ name: 'Order Lines_pkey', kind: 'primary', columns: ['order', 'line'] }]);
    expect(lines?.columns.map((c) => [c.name, c.nullable])).toEqual([
      ['order', false],
      ['line', false],
      ['Qty', false],
    ]);
    // Never analyzed and empty: no pages on disk, so 0 rows.
    expect(lines?.rowEstimate).toBe(0);
    expect(schema.tables.find((t) => t.name === 'refs')?.keys).toEqual([
      {
        name: 'refs_o_l_fkey',
        kind: 'foreign',
        columns: ['o', 'l'],
        references: { schema: 'Sales', table: 'Order Lines', columns: ['order', 'line'] },
      },
    ]);
  });

  it('answers at most the cap of relations from a schema with more, and says so', async () => {
    await client.query(`
      CREATE SCHEMA many;
      DO $$ BEGIN
        FOR i IN 1..${CATALOG_CAPS.relations + 5} LOOP EXECUTE format('CREATE TABLE many.t%s (id int)', i); END LOOP;
      END $$;`);
    const schema = await readCatalog(client);
    expect(schema.tables).toHaveLength(CATALOG_CAPS.relations);
    expect(schema.truncated).toBe(true);
    // The columns are those of the tables listed, each under its own.
    expect(schema.tables.filter((t) => t.schema === 'many').every((t) => t.columns.length === 1)).toBe(true);
  });
});
