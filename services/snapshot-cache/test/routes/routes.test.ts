import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, type TestDatabase } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CopyDriver } from '../../src/drivers/copy.js';
import { createCacheDatabase, randomKey } from '../helpers.js';

const TOKEN = 'test-service-token';
const headers = { [SERVICE_TOKEN_HEADER]: TOKEN };

describe('snapshot-cache HTTP API', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: FastifyInstance;
  let driver: CopyDriver;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-routes-'));
    driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    ({ db, pool } = await createCacheDatabase('sc_routes'));
    app = buildApp({
      config: {
        SERVICE_TOKEN: TOKEN,
        SNAPSHOT_CACHE_BUDGET_BYTES: 1024 ** 3,
        SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS: 86_400,
      },
      pool,
      driver,
      logger: captureLogger('snapshot-cache').logger,
    });
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 401 UNAUTHORIZED without the service token', async () => {
    const response = await app.inject({ method: 'GET', url: '/layers' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('tells which driver serves', async () => {
    const response = await app.inject({ method: 'GET', url: '/driver', headers });
    expect(response.json()).toEqual({ name: 'copy', atomicSnapshot: false, rootDir: dir });
  });

  it('creates a volume, snapshots it into a layer once, clones it, and guards the layer while clones live', async () => {
    const volume = await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} });
    expect(volume.statusCode).toBe(201);
    const { id, path, layerKey } = volume.json();
    expect({ path, layerKey }).toEqual({ path: join(dir, 'volumes', id), layerKey: null });
    await writeFile(join(path, 'PG_VERSION'), '18\n');

    const key = randomKey();
    const body = { key, parentKey: null, volumeId: id, stepCount: 2, buildMs: 340 };
    const created = await app.inject({ method: 'POST', url: '/layers', headers, payload: body });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key, parentKey: null, stepCount: 2, buildMs: 340, hits: 0, liveClones: 0 });
    expect(Date.parse(created.json().createdAt)).not.toBeNaN();
    const again = await app.inject({ method: 'POST', url: '/layers', headers, payload: body });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(created.json());

    const lookup = await app.inject({
      method: 'POST',
      url: '/layers/lookup',
      headers,
      payload: { keys: [key, randomKey()] },
    });
    expect(lookup.json()).toEqual({ key, index: 0, cached: [0] });

    const clone = await app.inject({ method: 'POST', url: '/volumes', headers, payload: { fromLayerKey: key } });
    expect(clone.statusCode).toBe(201);
    expect(await readdir(clone.json().path)).toEqual(['PG_VERSION']);
    expect((await app.inject({ method: 'GET', url: `/layers/${key}`, headers })).json()).toMatchObject({
      hits: 1,
      liveClones: 1,
    });

    const inUse = await app.inject({ method: 'DELETE', url: `/layers/${key}`, headers });
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json()).toMatchObject({ code: 'SNAPSHOT_CACHE_LAYER_IN_USE', liveClones: 1 });
    expect((await app.inject({ method: 'DELETE', url: `/volumes/${clone.json().id}`, headers })).statusCode).toBe(204);

    expect((await app.inject({ method: 'PUT', url: `/layers/${key}/pin`, headers })).json()).toMatchObject({
      pinned: true,
    });
    const pinned = await app.inject({ method: 'DELETE', url: `/layers/${key}`, headers });
    expect(pinned.json()).toMatchObject({ code: 'SNAPSHOT_CACHE_LAYER_PINNED', status: 409 });
    expect((await app.inject({ method: 'DELETE', url: `/layers/${key}/pin`, headers })).json()).toMatchObject({
      pinned: false,
    });

    const listed = await app.inject({ method: 'GET', url: '/layers', headers });
    expect(listed.json().map((layer: { key: string }) => layer.key)).toContain(key);
    expect((await app.inject({ method: 'DELETE', url: `/layers/${key}`, headers })).statusCode).toBe(204);
    expect((await driver.list()).layers).not.toContain(key);
    expect((await app.inject({ method: 'GET', url: `/layers/${key}`, headers })).json()).toMatchObject({
      code: 'SNAPSHOT_CACHE_LAYER_NOT_FOUND',
      status: 404,
    });
  });

  it('answers 404 for an unknown layer or volume, 204 for deleting an unknown volume, 400 for a bad key', async () => {
    const noLayer = await app.inject({
      method: 'POST',
      url: '/volumes',
      headers,
      payload: { fromLayerKey: randomKey() },
    });
    expect(noLayer.json()).toMatchObject({ status: 404, code: 'SNAPSHOT_CACHE_LAYER_NOT_FOUND' });
    const volumeId = '00000000-0000-4000-8000-000000000000';
    const noVolume = await app.inject({
      method: 'POST',
      url: '/layers',
      headers,
      payload: { key: randomKey(), volumeId, stepCount: 1, buildMs: 1 },
    });
    expect(noVolume.json()).toMatchObject({ status: 404, code: 'SNAPSHOT_CACHE_VOLUME_NOT_FOUND' });
    expect((await app.inject({ method: 'DELETE', url: `/volumes/${volumeId}`, headers })).statusCode).toBe(204);
    const badKey = await app.inject({ method: 'GET', url: '/layers/NOT-A-KEY', headers });
    expect(badKey.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    const badId = await app.inject({ method: 'DELETE', url: '/volumes/nope', headers });
    expect(badId.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('evicts on request and exposes the layer metrics', async () => {
    const evicted = await app.inject({ method: 'POST', url: '/evict', headers });
    expect(evicted.json()).toEqual({ evicted: [], totalBytes: expect.any(Number) });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    for (const name of [
      'taidon_layers',
      'taidon_layer_bytes',
      'taidon_layer_evictions_total',
      'taidon_layer_clone_seconds_count',
      'taidon_layer_snapshot_seconds_count',
      'taidon_http_requests_total',
    ]) {
      expect(metrics.body).toMatch(new RegExp(`^${name}\\{`, 'm'));
    }
    expect(metrics.body).toMatch(/^taidon_layer_snapshot_seconds_count\{service="snapshot-cache"\} 1$/m);
    // The budget the operator page shows beside the layers' bytes: the configured one.
    expect(metrics.body).toMatch(
      new RegExp(`^taidon_layer_budget_bytes\\{service="snapshot-cache"\\} ${1024 ** 3}$`, 'm'),
    );
  });

  it('makes a volume under the id its caller names, once: a second create of that id answers the same volume', async () => {
    const source = (await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
    await writeFile(join(source.path, 'PG_VERSION'), '18\n');
    const key = randomKey();
    const layer = { key, parentKey: null, volumeId: source.id, stepCount: 1, buildMs: 1 };
    expect((await app.inject({ method: 'POST', url: '/layers', headers, payload: layer })).statusCode).toBe(201);
    const id = '3f0c2a4e-8d1b-4c7e-9a6f-2b5d8e1c0a97';
    const payload = { fromLayerKey: key, id };
    const first = await app.inject({ method: 'POST', url: '/volumes', headers, payload });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ id, path: join(dir, 'volumes', id), layerKey: key });
    expect(await readdir(first.json().path)).toEqual(['PG_VERSION']);
    const again = await app.inject({ method: 'POST', url: '/volumes', headers, payload });
    expect(again.json()).toEqual(first.json());
    // One clone: one hit, one live clone.
    const read = (await app.inject({ method: 'GET', url: `/layers/${key}`, headers })).json();
    expect(read).toMatchObject({ hits: 1, liveClones: 1 });
    const bad = await app.inject({ method: 'POST', url: '/volumes', headers, payload: { id: 'not-a-uuid' } });
    expect(bad.statusCode).toBe(400);
    for (const v of [id, source.id]) {
      expect((await app.inject({ method: 'DELETE', url: `/volumes/${v}`, headers })).statusCode).toBe(204);
    }
  });
  it('lists the recorded volumes oldest first, only those older than asked, at most the limit', async () => {
    const before = (await app.inject({ method: 'GET', url: '/volumes', headers })).json() as { id: string }[];
    const first = (await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
    const second = (await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
    try {
      const all = await app.inject({ method: 'GET', url: '/volumes', headers });
      expect(all.statusCode).toBe(200);
      const listed = all.json() as { id: string; layerKey: string | null; createdAt: string }[];
      expect(listed.map((v) => v.id)).toEqual([...before.map((v) => v.id), first.id, second.id]);
      expect(listed.at(-1)).toMatchObject({ id: second.id, layerKey: null });
      expect(Date.now() - Date.parse(listed.at(-1)?.createdAt ?? '')).toBeLessThan(60_000);
      // Made just now: not older than an hour, so an orphan sweep with that grace leaves them alone.
      const oldAnswer = await app.inject({ method: 'GET', url: '/volumes?olderThanSeconds=3600', headers });
      expect(oldAnswer.statusCode, oldAnswer.body).toBe(200);
      const old = oldAnswer.json();
      expect(
        old.map((v: { id: string }) => v.id),
        JSON.stringify(old),
      ).not.toContain(first.id);
      const one = (await app.inject({ method: 'GET', url: '/volumes?limit=1', headers })).json();
      expect(one).toHaveLength(1);
      for (const query of ['limit=0', 'limit=10001', 'olderThanSeconds=-1', 'other=1']) {
        const bad = await app.inject({ method: 'GET', url: `/volumes?${query}`, headers });
        expect(bad.statusCode, query).toBe(400);
        expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    } finally {
      for (const v of [first.id, second.id]) await app.inject({ method: 'DELETE', url: `/volumes/${v}`, headers });
    }
  });
});
