import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import type { CowDriver } from '../drivers/driver.js';
import { deleteLayerRow } from '../store/layers.js';
import { deleteVolumeRow, listVolumeIds } from '../store/volumes.js';

/** What reconcile repaired, by id. */
export interface ReconcileSummary {
  /** Layer directories with no record: destroyed. */
  orphanLayersDestroyed: string[];
  /** Layer records whose data is gone: deleted (their clones keep their data and are no longer clones). */
  missingLayersForgotten: string[];
  /** Volume directories with no record: destroyed. */
  orphanVolumesDestroyed: string[];
  /** Volume records whose data is gone: deleted. */
  missingVolumesForgotten: string[];
}

/**
 * Makes the database and the disk agree after a crash or a manual cleanup:
 * data without a record is destroyed, records without data are deleted. Run
 * it before serving: a layer being created concurrently would look orphaned.
 */
export async function reconcile(pool: pg.Pool, driver: CowDriver): Promise<ReconcileSummary> {
  const onDisk = await driver.list();
  const diskLayers = new Set(onDisk.layers);
  const diskVolumes = new Set(onDisk.volumes);
  const summary: ReconcileSummary = {
    orphanLayersDestroyed: [],
    missingLayersForgotten: [],
    orphanVolumesDestroyed: [],
    missingVolumesForgotten: [],
  };
  const recordedLayers = (await pool.query<{ key: string }>('SELECT key FROM layers ORDER BY key')).rows.map(
    (row) => row.key,
  );
  for (const key of recordedLayers.filter((k) => !diskLayers.has(k))) {
    await withTransaction(pool, async (client) => {
      await client.query('UPDATE volumes SET layer_key = NULL WHERE layer_key = $1', [key]);
      await deleteLayerRow(client, key);
    });
    summary.missingLayersForgotten.push(key);
  }
  const knownLayers = new Set(recordedLayers);
  for (const key of onDisk.layers.filter((k) => !knownLayers.has(k))) {
    await driver.destroyLayer(key);
    summary.orphanLayersDestroyed.push(key);
  }
  const recordedVolumes = await listVolumeIds(pool);
  for (const id of recordedVolumes.filter((v) => !diskVolumes.has(v))) {
    await deleteVolumeRow(pool, id);
    summary.missingVolumesForgotten.push(id);
  }
  const knownVolumes = new Set(recordedVolumes);
  for (const id of onDisk.volumes.filter((v) => !knownVolumes.has(v))) {
    await driver.destroyVolume(id);
    summary.orphanVolumesDestroyed.push(id);
  }
  return summary;
}
