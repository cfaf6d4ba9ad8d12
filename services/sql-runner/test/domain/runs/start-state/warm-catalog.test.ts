import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmCatalog } from '../../../../src/domain/runs/start-state/prepared-connections.js';

// The warm-up a prepared connection runs before any learner has it (issue 18, ADR 0052), on a real server as a
// role that is not a superuser, as the learner is: it reads the state's tables and hands the session over as it was.

describe('warmCatalog on a prepared connection', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  const role = `warm_${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    db = await createTestDatabase('warm_catalog');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'warm-pw'`);
    await admin.query(`GRANT ALL ON SCHEMA public TO ${role}`);
    await admin.query(`SET ROLE ${role}`);
    await admin.query(`CREATE TABLE employees (id int PRIMARY KEY, name text, dept text)`);
    await admin.query(`INSERT INTO employees SELECT g, 'e' || g, 'eng' FROM generate_series(1, 50) g`);
    // A column with no sort order: the plan sorted on every column fails, and the table is skipped, not the rest.
    await admin.query(`CREATE TABLE events (id int, payload json)`);
    await admin.query(`INSERT INTO events VALUES (1, '{}')`);
    await admin.query('RESET ROLE');
    // A table the role may not read.
    await admin.query('CREATE TABLE secret (id int)');
    await admin.query('INSERT INTO secret VALUES (1)');
    await admin.query(`CREATE SCHEMA other AUTHORIZATION ${role}`);
    await admin.query(`CREATE TABLE other.notes (id int)`);
    await admin.query(`GRANT SELECT ON other.notes TO ${role}`);
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('reads every table the role may read, skips the others, and leaves the session and the data as they were', async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'warm-pw';
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await client.query('SELECT 1');
      const timeoutBefore = (await client.query('SHOW statement_timeout')).rows[0].statement_timeout;
      await warmCatalog(client);
      // Handed over idle, outside any transaction, with its own settings.
      expect((client as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe('I');
      expect((await client.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe(timeoutBefore);
      await client.query('SELECT pg_stat_force_next_flush()');
    } finally {
      await client.end();
    }
    const scans = async () =>
      Object.fromEntries(
        (
          await admin.query<{ relname: string; seq_scan: string }>(
            `SELECT schemaname || '.' || relname AS relname, seq_scan FROM pg_stat_user_tables
              WHERE relname IN ('employees', 'events', 'secret', 'notes')`,
          )
        ).rows.map((r) => [r.relname, Number(r.seq_scan)]),
      );
    // Statistics arrive once the backend has flushed them (at its exit, forced above).
    let seen: Record<string, number> = {};
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      seen = await scans();
      if ((seen['public.employees'] ?? 0) > 0 && (seen['other.notes'] ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen['public.employees']).toBeGreaterThan(0);
    expect(seen['public.events']).toBeGreaterThan(0);
    expect(seen['other.notes']).toBeGreaterThan(0);
    expect(seen['public.secret']).toBe(0);
    // Only read: the rows are as they were.
    expect((await admin.query('SELECT count(*)::int AS n FROM employees')).rows[0].n).toBe(50);
    expect((await admin.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(1);
  });

  it('answers after a failure too, with the transaction rolled back', async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'warm-pw';
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      // A server whose DO is refused (here: no language plpgsql for this role's DO) stands for any failure.
      await admin.query(`REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC`);
      await warmCatalog(client);
      expect((client as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe('I');
      expect((await client.query('SELECT count(*)::int AS n FROM employees')).rows[0].n).toBe(50);
    } finally {
      await admin.query(`GRANT USAGE ON LANGUAGE plpgsql TO PUBLIC`);
      await client.end();
    }
  });
});
