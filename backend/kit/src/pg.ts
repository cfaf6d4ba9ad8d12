import pg from 'pg';

/** A pool on one database URL, named after the service in pg_stat_activity. */
export function createPool(connectionString: string, options: { applicationName: string; max?: number }): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    application_name: options.applicationName,
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client whose server went away (restart, shutdown) is dropped by the pool; the next query
  // reconnects or fails with its own error. Unlistened, the event would crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Readiness check: one round trip to the database. */
export function pingPool(pool: pg.Pool): () => Promise<void> {
  return async () => {
    await pool.query('SELECT 1');
  };
}
