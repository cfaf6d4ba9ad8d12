import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/domain/reconcile.js';
import { CopyDriver } from '../../src/drivers/copy.js';
import { createCache, createCacheDatabase, randomKey } from '../helpers.js';

describe('reconcile', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-reconcile-'));
    ({ db, pool } = await createCacheDatabase('sc_reconcile'));
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('destroys data without a record and forgets records without data', async () => {
    const driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    const cache = createCache(pool, driver);
    const kept = await cache.createVolume({});
    const keptKey = randomKey();
    await cache.createLayer({ key: keptKey, volumeId: kept.id, stepCount: 1, buildMs: 1 });

    const orphanVolume = randomUUID();
    await driver.createVolume(orphanVolume);
    const orphanLayer = randomKey();
    await driver.snapshotVolume(kept.id, orphanLayer);
    const lostKey = randomKey();
    await cache.createLayer({ key: lostKey, volumeId: kept.id, stepCount: 2, buildMs: 1 });
    const cloneOfLost = await cache.createVolume({ fromLayerKey: lostKey });
    await driver.destroyLayer(lostKey);
    const lostVolume = await cache.createVolume({});
    await driver.destroyVolume(lostVolume.id);

    const summary = await reconcile(pool, driver);
    expect(summary).toEqual({
      orphanLayersDestroyed: [orphanLayer],
      missingLayersForgotten: [lostKey],
      orphanVolumesDestroyed: [orphanVolume],
      missingVolumesForgotten: [lostVolume.id],
    });
    await expect(stat(driver.layerPath(orphanLayer))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(driver.volumePath(orphanVolume))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cache.listLayers()).map((l) => l.key)).toEqual([keptKey]);
    const clone = await pool.query('SELECT layer_key FROM volumes WHERE id = $1', [cloneOfLost.id]);
    expect(clone.rows).toEqual([{ layer_key: null }]);
    expect(await reconcile(pool, driver)).toEqual({
      orphanLayersDestroyed: [],
      missingLayersForgotten: [],
      orphanVolumesDestroyed: [],
      missingVolumesForgotten: [],
    });
  });
});
