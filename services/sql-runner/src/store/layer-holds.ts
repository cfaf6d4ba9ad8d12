import type pg from 'pg';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** One key a holder holds. */
export interface LayerHoldRow {
  holder: string;
  key: string;
  warm: number;
  pinned: boolean;
}

/** The keys `holder` holds now. */
export async function holdsOf(db: Queryable, holder: string): Promise<LayerHoldRow[]> {
  const { rows } = await db.query<{ holder: string; key: string; warm: number; pinned: boolean }>(
    'SELECT holder, key, warm, pinned FROM layer_holds WHERE holder = $1 ORDER BY key',
    [holder],
  );
  return rows;
}

/** Records (or updates) `holder`'s hold of `key`. */
export async function upsertHold(db: Queryable, hold: LayerHoldRow): Promise<void> {
  await db.query(
    `INSERT INTO layer_holds (holder, key, warm, pinned) VALUES ($1, $2, $3, $4)
     ON CONFLICT (holder, key) DO UPDATE SET warm = EXCLUDED.warm, pinned = EXCLUDED.pinned`,
    [hold.holder, hold.key, hold.warm, hold.pinned],
  );
}

/** Drops `holder`'s hold of `key`. */
export async function deleteHold(db: Queryable, holder: string, key: string): Promise<void> {
  await db.query('DELETE FROM layer_holds WHERE holder = $1 AND key = $2', [holder, key]);
}

/** Warm instances every held key asks for: the sum over its holders, and how many hold it. */
export async function warmDemandByKey(
  db: Queryable,
): Promise<{ key: string; warm: number; holders: number; pinned: boolean }[]> {
  const { rows } = await db.query<{ key: string; warm: string; holders: string; pinned: boolean }>(
    'SELECT key, sum(warm) AS warm, count(*) AS holders, bool_or(pinned) AS pinned FROM layer_holds GROUP BY key HAVING sum(warm) > 0 ORDER BY key',
  );
  return rows.map((r) => ({ key: r.key, warm: Number(r.warm), holders: Number(r.holders), pinned: r.pinned }));
}

/** Keys held whose layer was missing when they were held: what the sweep tries to pin again. */
export async function unpinnedHeldKeys(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    'SELECT DISTINCT key FROM layer_holds WHERE NOT pinned ORDER BY key LIMIT $1',
    [limit],
  );
  return rows.map((r) => r.key);
}

/** Marks every hold of `key` as holding its layer's pin. */
export async function markHoldsPinned(db: Queryable, key: string): Promise<void> {
  await db.query('UPDATE layer_holds SET pinned = true WHERE key = $1 AND NOT pinned', [key]);
}
