import type pg from 'pg';

/** Declared demand for one warm-pool key. */
export interface PoolDemand {
  key: string;
  size: number;
}

/** Sets (or, with size 0, clears) the demand for a key. */
export async function setPoolDemand(pool: pg.Pool, key: string, size: number): Promise<void> {
  if (size === 0) {
    await pool.query('DELETE FROM warm_pool_demand WHERE key = $1', [key]);
    return;
  }
  await pool.query(
    `INSERT INTO warm_pool_demand (key, size) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET size = EXCLUDED.size, updated_at = now()`,
    [key, size],
  );
}

/** Every declared demand, oldest first. */
export async function listPoolDemand(pool: pg.Pool): Promise<PoolDemand[]> {
  const { rows } = await pool.query<PoolDemand>('SELECT key, size FROM warm_pool_demand ORDER BY updated_at, key');
  return rows;
}
