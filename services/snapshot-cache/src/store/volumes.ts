import type { Queryable } from './layers.js';

/** A volume as snapshot-cache records it. */
export interface VolumeRecord {
  id: string;
  layerKey: string | null;
  sizeLimitBytes: number | null;
  createdAt: Date;
}

interface VolumeRow {
  id: string;
  layer_key: string | null;
  size_limit_bytes: string | null;
  created_at: Date;
}

function toVolume(row: VolumeRow): VolumeRecord {
  return {
    id: row.id,
    layerKey: row.layer_key,
    sizeLimitBytes: row.size_limit_bytes === null ? null : Number(row.size_limit_bytes),
    createdAt: row.created_at,
  };
}

/**
 * Records a volume, cloned from `layerKey` (a hit of that layer, counted in the same statement) or empty when null.
 * Run it last in a clone's transaction: the row lock the hit takes would serialize concurrent clones of one layer.
 */
export async function insertVolume(
  db: Queryable,
  volume: { id: string; layerKey: string | null; sizeLimitBytes: number | null },
): Promise<VolumeRecord> {
  const { rows } = await db.query<VolumeRow>(
    `WITH hit AS (UPDATE layers SET hits = hits + 1, last_used_at = now() WHERE key = $2)
     INSERT INTO volumes (id, layer_key, size_limit_bytes) VALUES ($1, $2, $3)
     RETURNING id, layer_key, size_limit_bytes, created_at`,
    [volume.id, volume.layerKey, volume.sizeLimitBytes],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING returned no row');
  return toVolume(row);
}

/**
 * The volume under `id`, locked until the transaction ends: `share` while a
 * layer is snapshotted from it, `update` while it is destroyed.
 */
export async function lockVolume(
  db: Queryable,
  id: string,
  mode: 'share' | 'update',
): Promise<VolumeRecord | undefined> {
  const { rows } = await db.query<VolumeRow>(
    `SELECT id, layer_key, size_limit_bytes, created_at FROM volumes WHERE id = $1 FOR ${mode === 'share' ? 'SHARE' : 'UPDATE'}`,
    [id],
  );
  return rows[0] && toVolume(rows[0]);
}

/** Volumes recorded at least `olderThanSeconds` ago by the database's clock, oldest first, at most `limit`. */
export async function listVolumes(db: Queryable, olderThanSeconds: number, limit: number): Promise<VolumeRecord[]> {
  const { rows } = await db.query<VolumeRow>(
    `SELECT id, layer_key, size_limit_bytes, created_at FROM volumes
     WHERE created_at <= now() - make_interval(secs => $1)
     ORDER BY created_at, id LIMIT $2`,
    [olderThanSeconds, limit],
  );
  return rows.map(toVolume);
}

/** Every volume id recorded. */
export async function listVolumeIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM volumes ORDER BY id`);
  return rows.map((row) => row.id);
}

/** Deletes the volume's row. */
export async function deleteVolumeRow(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM volumes WHERE id = $1`, [id]);
}
