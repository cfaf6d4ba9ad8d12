import type pg from 'pg';

/** A pool or a client inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** A layer as snapshot-cache records it, with the number of volumes cloned from it. */
export interface Layer {
  key: string;
  parentKey: string | null;
  stepCount: number;
  buildMs: number;
  sizeBytes: number;
  hits: number;
  pinned: boolean;
  createdAt: Date;
  lastUsedAt: Date;
  liveClones: number;
}

/** What a new layer row needs. */
export interface NewLayer {
  key: string;
  parentKey: string | null;
  stepCount: number;
  buildMs: number;
  sizeBytes: number;
  pinned: boolean;
}

interface LayerRow {
  key: string;
  parent_key: string | null;
  step_count: number;
  build_ms: number;
  size_bytes: string;
  hits: string;
  pinned: boolean;
  created_at: Date;
  last_used_at: Date;
  live_clones: string;
}

const SELECT_LAYERS = `
  SELECT l.key, l.parent_key, l.step_count, l.build_ms, l.size_bytes, l.hits, l.pinned, l.created_at, l.last_used_at,
         (SELECT count(*) FROM volumes v WHERE v.layer_key = l.key) AS live_clones
  FROM layers l`;

function toLayer(row: LayerRow): Layer {
  return {
    key: row.key,
    parentKey: row.parent_key,
    stepCount: row.step_count,
    buildMs: row.build_ms,
    sizeBytes: Number(row.size_bytes),
    hits: Number(row.hits),
    pinned: row.pinned,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    liveClones: Number(row.live_clones),
  };
}

/** The layer recorded under `key`, if any. */
export async function findLayer(db: Queryable, key: string): Promise<Layer | undefined> {
  const { rows } = await db.query<LayerRow>(`${SELECT_LAYERS} WHERE l.key = $1`, [key]);
  return rows[0] && toLayer(rows[0]);
}

/** Whether a layer is recorded under `key`. */
export async function layerExists(db: Queryable, key: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM layers WHERE key = $1`, [key]);
  return rowCount === 1;
}

/** Every layer, oldest first. */
export async function listLayers(db: Queryable): Promise<Layer[]> {
  const { rows } = await db.query<LayerRow>(`${SELECT_LAYERS} ORDER BY l.created_at, l.key`);
  return rows.map(toLayer);
}

/** Records a layer; a concurrent insert of the same key wins and this returns undefined. */
export async function insertLayer(db: Queryable, layer: NewLayer): Promise<Layer | undefined> {
  const { rowCount } = await db.query(
    `INSERT INTO layers (key, parent_key, step_count, build_ms, size_bytes, pinned)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
    [layer.key, layer.parentKey, layer.stepCount, layer.buildMs, layer.sizeBytes, layer.pinned],
  );
  return rowCount === 1 ? findLayer(db, layer.key) : undefined;
}

/** Sets or clears the pin; false when the layer is unknown. */
export async function setLayerPinned(db: Queryable, key: string, pinned: boolean): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE layers SET pinned = $2 WHERE key = $1`, [key, pinned]);
  return rowCount === 1;
}

/** Deletes the layer's row. */
export async function deleteLayerRow(db: Queryable, key: string): Promise<void> {
  await db.query(`DELETE FROM layers WHERE key = $1`, [key]);
}

/**
 * Of `keys`, the deepest (highest index) that has a layer (index -1 when
 * none), and the indexes of every key that has one, in order.
 */
export async function deepestLayer(
  db: Queryable,
  keys: readonly string[],
): Promise<{ key: string | null; index: number; cached: number[] }> {
  const { rows } = await db.query<{ key: string; index: string }>(
    `SELECT k.key, k.index FROM unnest($1::text[]) WITH ORDINALITY AS k(key, index)
     JOIN layers l ON l.key = k.key ORDER BY k.index`,
    [keys],
  );
  const cached = rows.map((r) => Number(r.index) - 1);
  const row = rows.at(-1);
  return row ? { key: row.key, index: Number(row.index) - 1, cached } : { key: null, index: -1, cached };
}

/** Number of layers and the bytes they occupy, for the gauges. */
export async function layerTotals(db: Queryable): Promise<{ count: number; sizeBytes: number }> {
  const { rows } = await db.query<{ count: string; size_bytes: string }>(
    `SELECT count(*) AS count, coalesce(sum(size_bytes), 0) AS size_bytes FROM layers`,
  );
  return { count: Number(rows[0]?.count ?? 0), sizeBytes: Number(rows[0]?.size_bytes ?? 0) };
}

// Two-key advisory locks live in their own space; this class id keeps
// layer locks apart from anything else that uses the two-key form.
const LAYER_LOCK_CLASS = 0x5443;

/** Waits for the transaction-scoped lock on `key`: shared for clones, exclusive for create and delete. */
export async function lockLayerKey(client: pg.PoolClient, key: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await client.query(`SELECT ${fn}($1, hashtext($2))`, [LAYER_LOCK_CLASS, key]);
}

/** Takes the exclusive lock on `key` if nobody holds it; eviction skips busy layers rather than wait. */
export async function tryLockLayerKey(client: pg.PoolClient, key: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked`,
    [LAYER_LOCK_CLASS, key],
  );
  return rows[0]?.locked === true;
}
