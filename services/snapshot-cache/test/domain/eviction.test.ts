import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerScore, planEviction, type ScoredLayer } from '../../src/domain/eviction.js';
import { LayerCache } from '../../src/domain/layer-cache.js';
import { CopyDriver } from '../../src/drivers/copy.js';
import { createSnapshotCacheMetrics } from '../../src/metrics.js';
import { createCacheDatabase, randomKey, writeRandomFile } from '../helpers.js';

const DAY_MS = 86_400_000;
const now = Date.parse('2025-01-10T00:00:00Z');

function layer(fields: Partial<ScoredLayer> & { key: string }): ScoredLayer {
  return { sizeBytes: 100, hits: 0, lastUsedAt: new Date(now), buildMs: 100, pinned: false, liveClones: 0, ...fields };
}

describe('layerScore', () => {
  it('weighs hits, recency and build time per byte', () => {
    const base = layerScore(layer({ key: 'a' }), now, DAY_MS);
    expect(layerScore(layer({ key: 'a', hits: 3 }), now, DAY_MS)).toBeCloseTo(base * 4);
    expect(layerScore(layer({ key: 'a', lastUsedAt: new Date(now - DAY_MS) }), now, DAY_MS)).toBeCloseTo(base / 2);
    expect(layerScore(layer({ key: 'a', buildMs: 200 }), now, DAY_MS)).toBeCloseTo(base * 2);
    expect(layerScore(layer({ key: 'a', sizeBytes: 200 }), now, DAY_MS)).toBeCloseTo(base / 2);
  });
});

describe('planEviction', () => {
  it('evicts lowest scores first until within budget, never pinned or in-use layers', () => {
    const layers = [
      layer({ key: 'pinned', buildMs: 1, pinned: true }),
      layer({ key: 'in-use', buildMs: 1, liveClones: 2 }),
      layer({ key: 'cheap', buildMs: 2 }),
      layer({ key: 'stale', buildMs: 50, lastUsedAt: new Date(now - 10 * DAY_MS) }),
      layer({ key: 'valuable', buildMs: 5000, hits: 9 }),
    ];
    expect(planEviction(layers, { budgetBytes: 500, halfLifeMs: DAY_MS, nowMs: now })).toEqual([]);
    expect(planEviction(layers, { budgetBytes: 300, halfLifeMs: DAY_MS, nowMs: now })).toEqual(['stale', 'cheap']);
    expect(planEviction(layers, { budgetBytes: 0, halfLifeMs: DAY_MS, nowMs: now })).toEqual([
      'stale',
      'cheap',
      'valuable',
    ]);
  });
});

describe('LayerCache.evict', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-evict-'));
    ({ db, pool } = await createCacheDatabase('sc_evict'));
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps layers under a small budget, sparing pinned and in-use layers and evicting the lowest score', async () => {
    const driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    const metrics = createSnapshotCacheMetrics();
    const unbounded = new LayerCache({ pool, driver, metrics, budgetBytes: 1024 ** 4, halfLifeMs: DAY_MS });
    const volume = await unbounded.createVolume({});
    await writeRandomFile(volume.path, 'data', 256 * 1024);
    const make = async (buildMs: number, pinned = false) => {
      const key = randomKey();
      await unbounded.createLayer({ key, volumeId: volume.id, stepCount: 1, buildMs, pinned });
      return key;
    };
    const pinned = await make(1, true);
    const inUse = await make(2);
    const cheap = await make(3);
    const dear = await make(50_000);
    const clone = await unbounded.createVolume({ fromLayerKey: inUse });
    const size = (await unbounded.getLayer(cheap)).sizeBytes;

    const bounded = new LayerCache({ pool, driver, metrics, budgetBytes: 3 * size, halfLifeMs: DAY_MS });
    const result = await bounded.evict();
    expect(result).toEqual({ evicted: [cheap], totalBytes: 3 * size });
    expect(metrics.evictions.count).toBe(1);
    expect((await driver.list()).layers.sort()).toEqual([pinned, inUse, dear].sort());
    await expect(bounded.getLayer(cheap)).rejects.toMatchObject({ code: 'SNAPSHOT_CACHE_LAYER_NOT_FOUND' });

    const tiny = new LayerCache({ pool, driver, metrics, budgetBytes: 0, halfLifeMs: DAY_MS });
    expect((await tiny.evict()).evicted).toEqual([dear]);
    expect((await tiny.listLayers()).map((l) => l.key).sort()).toEqual([pinned, inUse].sort());
    await tiny.destroyVolume(clone.id);
    expect((await tiny.evict()).evicted).toEqual([inUse]);
  });
});
