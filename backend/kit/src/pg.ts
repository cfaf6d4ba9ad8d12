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

/**
 * Runs `work` in one transaction on one client of `pool`: BEGIN, then COMMIT when it resolves, ROLLBACK when
 * it throws (the error thrown is `work`'s: a rollback that fails too says only that the connection went, and
 * that client is dropped from the pool instead of handed to the next caller, as is one whose connection
 * went during the work). Advisory transaction locks
 * taken in `work` are held to the end.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that goes while the client is out of the pool emits 'error' on it: unlistened, that would end
  // the process; the query in flight fails with its own error anyway.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollback: unknown) => {
      broken = rollback instanceof Error ? rollback : new Error(String(rollback));
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
