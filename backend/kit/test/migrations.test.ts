import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationChecksumError, migrate } from '../src/migrations.js';
import { createPool } from '../src/pg.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('kit_migrate');
  });
  afterAll(async () => db.drop());

  it('applies files in number order once, and refuses an edited applied file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-migrations-'));
    await writeFile(join(dir, '002_add_column.sql'), 'ALTER TABLE items ADD COLUMN note text;');
    await writeFile(join(dir, '001_create.sql'), 'CREATE TABLE items (id int PRIMARY KEY);');
    await writeFile(join(dir, 'README.md'), 'not a migration');
    const pool = createPool(db.url, { applicationName: 'test' });
    try {
      expect(await migrate(pool, dir)).toEqual(['001', '002']);
      expect(await migrate(pool, dir)).toEqual([]);
      const columns = await pool.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position`,
      );
      expect(columns.rows.map((r) => r.column_name)).toEqual(['id', 'note']);
      await writeFile(join(dir, '001_create.sql'), 'CREATE TABLE items (id bigint PRIMARY KEY);');
      await expect(migrate(pool, dir)).rejects.toBeInstanceOf(MigrationChecksumError);
    } finally {
      await pool.end();
    }
  });

  it('rolls back a failing file and records nothing for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-migrations-'));
    await writeFile(join(dir, '001_ok.sql'), 'CREATE TABLE ok_table (id int);');
    await writeFile(join(dir, '002_bad.sql'), 'CREATE TABLE half (id int); SELECT * FROM missing_table;');
    const pool = createPool(db.url, { applicationName: 'test' });
    try {
      await pool.query('CREATE SCHEMA m2; SET search_path = m2');
      await expect(migrate(pool, dir)).rejects.toThrow(/missing_table/);
      const half = await pool.query(`SELECT to_regclass('half') AS t`);
      expect(half.rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });
});
