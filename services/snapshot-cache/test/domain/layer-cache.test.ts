import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerCache } from '../../src/domain/layer-cache.js';
import { CopyDriver } from '../../src/drivers/copy.js';
import type { CowDriver } from '../../src/drivers/driver.js';
import { createSnapshotCacheMetrics } from '../../src/metrics.js';
import { createCache, createCacheDatabase, randomKey } from '../helpers.js';

/** The real copy driver, counting the snapshots it takes. */
function countingSnapshots(driver: CowDriver): { driver: CowDriver; snapshots: () => number } {
  let snapshots = 0;
  const counted = new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'snapshotVolume') {
        return async (volumeId: string, layerId: string) => {
          snapshots += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
          return target.snapshotVolume(volumeId, layerId);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { driver: counted, snapshots: () => snapshots };
}

/** The real copy driver, said to clone cheaply (as btrfs does): the cache then makes clones ahead. */
function cheapCloning(driver: CowDriver): CowDriver {
  return new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'cheapClones') return true;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Resolves once `check` holds, polling every 10 ms; fails after 3 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 3 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LayerCache', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;
  let driver: CowDriver;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-cache-'));
    driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    ({ db, pool } = await createCacheDatabase('sc_cache'));
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the existing layer for a known key without a new snapshot', async () => {
    const counting = countingSnapshots(driver);
    const cache = createCache(pool, counting.driver);
    const volume = await cache.createVolume({});
    await writeFile(join(volume.path, 'PG_VERSION'), '18\n');
    const key = randomKey();
    const first = await cache.createLayer({ key, volumeId: volume.id, stepCount: 3, buildMs: 120, parentKey: null });
    const second = await cache.createLayer({ key, volumeId: volume.id, stepCount: 3, buildMs: 120 });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.layer).toEqual(first.layer);
    expect(first.layer).toMatchObject({ key, stepCount: 3, buildMs: 120, hits: 0, pinned: false, liveClones: 0 });
    expect(first.layer.sizeBytes).toBeGreaterThan(0);
    expect(counting.snapshots()).toBe(1);
  });

  it('makes one snapshot for concurrent requests of one key', async () => {
    const counting = countingSnapshots(driver);
    const cache = createCache(pool, counting.driver);
    const volume = await cache.createVolume({});
    const key = randomKey();
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => cache.createLayer({ key, volumeId: volume.id, stepCount: 1, buildMs: 10 })),
    );
    expect(counting.snapshots()).toBe(1);
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.layer.createdAt.getTime())).size).toBe(1);
  });

  it('counts a clone as a hit and as a live clone, and answers 404 for an unknown key or volume', async () => {
    const cache = createCache(pool, driver);
    const volume = await cache.createVolume({});
    const key = randomKey();
    const { layer } = await cache.createLayer({ key, volumeId: volume.id, stepCount: 1, buildMs: 10 });
    const clone = await cache.createVolume({ fromLayerKey: key, sizeLimitBytes: 1024 ** 2 });
    expect(clone).toMatchObject({ layerKey: key, path: driver.volumePath(clone.id) });
    const after = await cache.getLayer(key);
    expect(after).toMatchObject({ hits: 1, liveClones: 1 });
    expect(after.lastUsedAt.getTime()).toBeGreaterThanOrEqual(layer.lastUsedAt.getTime());
    const volumes = await pool.query('SELECT layer_key, size_limit_bytes FROM volumes WHERE id = $1', [clone.id]);
    expect(volumes.rows[0]).toEqual({ layer_key: key, size_limit_bytes: String(1024 ** 2) });
    await expect(cache.createVolume({ fromLayerKey: randomKey() })).rejects.toMatchObject({
      code: 'SNAPSHOT_CACHE_LAYER_NOT_FOUND',
      statusCode: 404,
    });
    await expect(
      cache.createLayer({
        key: randomKey(),
        volumeId: '00000000-0000-4000-8000-000000000000',
        stepCount: 1,
        buildMs: 1,
      }),
    ).rejects.toMatchObject({ code: 'SNAPSHOT_CACHE_VOLUME_NOT_FOUND', statusCode: 404 });
    await cache.destroyVolume(clone.id);
    expect(await cache.getLayer(key)).toMatchObject({ liveClones: 0 });
    await cache.destroyVolume(clone.id);
  });

  it('finds the deepest key of a chain that has a layer', async () => {
    const cache = createCache(pool, driver);
    const volume = await cache.createVolume({});
    const keys = [randomKey(), randomKey(), randomKey(), randomKey()];
    expect(await cache.lookup(keys)).toEqual({ key: null, index: -1, cached: [] });
    for (const i of [0, 2]) {
      await cache.createLayer({ key: keys[i] ?? '', volumeId: volume.id, stepCount: i + 1, buildMs: 1 });
    }
    expect(await cache.lookup(keys)).toEqual({ key: keys[2], index: 2, cached: [0, 2] });
    expect(await cache.lookup([])).toEqual({ key: null, index: -1, cached: [] });
  });

  it("hands out the clone it made ahead as a layer's next volume, and makes the next one", async () => {
    const metrics = createSnapshotCacheMetrics();
    const cheap = cheapCloning(driver);
    const cache = new LayerCache({
      pool,
      driver: cheap,
      metrics,
      budgetBytes: 1024 ** 4,
      halfLifeMs: 1,
      spareClones: 2,
    });
    const source = await cache.createVolume({});
    await writeFile(join(source.path, 'PG_VERSION'), '18\n');
    const key = randomKey();
    await cache.createLayer({ key, volumeId: source.id, stepCount: 1, buildMs: 1 });
    const first = await cache.createVolume({ fromLayerKey: key });
    expect(cache.spareVolumes().has(key)).toBe(false);
    await until(() => cache.spareVolumes().has(key));
    const spare = cache.spareVolumes().get(key) ?? '';
    expect(existsSync(join(driver.volumePath(spare), 'PG_VERSION'))).toBe(true);
    // Not a live clone while nobody holds it: no record.
    expect(await cache.getLayer(key)).toMatchObject({ liveClones: 1, hits: 1 });

    const second = await cache.createVolume({ fromLayerKey: key });
    expect(second).toEqual({ id: spare, path: driver.volumePath(spare), layerKey: key });
    expect(await cache.getLayer(key)).toMatchObject({ liveClones: 2, hits: 2 });
    expect(metrics.clonesFromSpares.count).toBe(1);
    await until(() => (cache.spareVolumes().get(key) ?? spare) !== spare);
    const next = cache.spareVolumes().get(key) ?? '';

    // Deleting the layer destroys its spare with it (once the clones people hold are gone).
    await expect(cache.deleteLayer(key)).rejects.toMatchObject({ code: 'SNAPSHOT_CACHE_LAYER_IN_USE' });
    await cache.destroyVolume(first.id);
    await cache.destroyVolume(second.id);
    await cache.deleteLayer(key);
    expect(existsSync(driver.volumePath(next))).toBe(false);
    expect(cache.spareVolumes().size).toBe(0);
    await cache.close();
  });

  it('keeps spares for at most its limit of layers, evicts a layer with its spare, destroys them all at close', async () => {
    const cache = new LayerCache({
      pool,
      driver: cheapCloning(driver),
      metrics: createSnapshotCacheMetrics(),
      budgetBytes: 0,
      halfLifeMs: 1,
      spareClones: 2,
    });
    const keys = [randomKey(), randomKey(), randomKey()];
    const volumes = [];
    for (const key of keys) {
      const source = await cache.createVolume({});
      await writeFile(join(source.path, 'PG_VERSION'), '18\n');
      await cache.createLayer({ key, volumeId: source.id, stepCount: 1, buildMs: 1 });
      volumes.push(await cache.createVolume({ fromLayerKey: key }));
      await until(() => cache.spareVolumes().has(key));
    }
    expect([...cache.spareVolumes().keys()]).toEqual([keys[1], keys[2]]);
    const onDisk = new Set((await driver.list()).volumes);
    for (const id of cache.spareVolumes().values()) expect(onDisk.has(id)).toBe(true);

    for (const volume of volumes.slice(1)) await cache.destroyVolume(volume.id);
    const doomed = cache.spareVolumes().get(keys[1] ?? '') ?? '';
    // Over the budget (0), a layer nobody holds a clone of is evicted, and its spare with it.
    const result = await cache.evict(new Set([keys[0] ?? '', keys[2] ?? '']));
    expect(result.evicted).toContain(keys[1]);
    expect(existsSync(driver.volumePath(doomed))).toBe(false);
    expect(cache.spareVolumes().has(keys[1] ?? '')).toBe(false);

    const left = [...cache.spareVolumes().values()];
    await cache.close();
    for (const id of left) expect(existsSync(driver.volumePath(id))).toBe(false);
    await cache.destroyVolume(volumes[0]?.id ?? '');
  });

  it('makes no clone ahead with a driver whose clones are copies', async () => {
    const cache = new LayerCache({
      pool,
      driver,
      metrics: createSnapshotCacheMetrics(),
      budgetBytes: 1024 ** 4,
      halfLifeMs: 1,
      spareClones: 4,
    });
    const source = await cache.createVolume({});
    const key = randomKey();
    await cache.createLayer({ key, volumeId: source.id, stepCount: 1, buildMs: 1 });
    const before = (await driver.list()).volumes.length;
    await cache.createVolume({ fromLayerKey: key });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cache.spareVolumes().size).toBe(0);
    expect((await driver.list()).volumes.length).toBe(before + 1);
  });

  it('refuses to delete a pinned layer until it is unpinned', async () => {
    const cache = createCache(pool, driver);
    const volume = await cache.createVolume({});
    const key = randomKey();
    await cache.createLayer({ key, volumeId: volume.id, stepCount: 1, buildMs: 1, pinned: true });
    await expect(cache.deleteLayer(key)).rejects.toMatchObject({
      code: 'SNAPSHOT_CACHE_LAYER_PINNED',
      statusCode: 409,
    });
    expect(await cache.setPinned(key, false)).toMatchObject({ pinned: false });
    await cache.deleteLayer(key);
    expect((await driver.list()).layers).not.toContain(key);
  });
});
