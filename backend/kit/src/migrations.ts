import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

/** A migration file was changed after it was applied; forward-only means never. */
export class MigrationChecksumError extends Error {
  constructor(version: string) {
    super(`migration ${version} was changed after it was applied; add a new migration instead`);
    this.name = 'MigrationChecksumError';
  }
}

const FILE = /^(\d{3,})_[a-z0-9_]+\.sql$/;

/**
 * Applies the plain SQL files of `directory` (`NNN_name.sql`, in number order)
 * that are not yet recorded in `schema_migrations` of the connection's
 * current schema, each in its own transaction, under an advisory lock so two
 * replicas starting together apply each file once. Returns the versions applied.
 */
export async function migrate(pool: pg.Pool, directory: string): Promise<string[]> {
  const files = (await readdir(directory)).filter((f) => FILE.test(f)).sort();
  const client = await pool.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext(current_schema() || '.schema_migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Map(
      (
        await client.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations')
      ).rows.map((r) => [r.version, r.checksum]),
    );
    const done: string[] = [];
    for (const file of files) {
      const version = FILE.exec(file)?.[1] ?? file;
      const sql = await readFile(join(directory, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const known = applied.get(version);
      if (known !== undefined) {
        if (known !== checksum) throw new MigrationChecksumError(version);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          version,
          file,
          checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      done.push(version);
    }
    return done;
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext(current_schema() || '.schema_migrations'))`).catch(() => {});
    client.release();
  }
}
