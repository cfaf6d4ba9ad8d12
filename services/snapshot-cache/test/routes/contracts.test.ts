import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotCacheApi } from '@taidon/contracts';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, type TestDatabase } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CopyDriver } from '../../src/drivers/copy.js';
import { createCacheDatabase, randomKey } from '../helpers.js';

const TOKEN = 'test-service-token';
const headers = { [SERVICE_TOKEN_HEADER]: TOKEN };

describe('snapshot-cache routes on the contracts of @taidon/contracts', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-contracts-'));
    const driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    ({ db, pool } = await createCacheDatabase('sc_contracts'));
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

  it('answers a volume, its layer and a lookup as Volume, Layer and LookupResult say', async () => {
    const volume = (await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
    expect([...Value.Errors(SnapshotCacheApi.Volume, volume)]).toEqual([]);
    const key = randomKey();
    const created = await app.inject({
      method: 'POST',
      url: '/layers',
      headers,
      payload: { key, volumeId: volume.id, stepCount: 1, buildMs: 5 },
    });
    expect(created.statusCode).toBe(201);
    expect([...Value.Errors(SnapshotCacheApi.Layer, created.json())]).toEqual([]);
    const lookup = await app.inject({
      method: 'POST',
      url: '/layers/lookup',
      headers,
      payload: { keys: [randomKey(), key] },
    });
    expect(lookup.json()).toEqual({ key, index: 1, cached: [1] });
    expect(Value.Check(SnapshotCacheApi.LookupResult, lookup.json())).toBe(true);
    await app.inject({ method: 'DELETE', url: `/volumes/${volume.id}`, headers });
  });

  it('refuses a body the contract does not allow', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/volumes',
      headers,
      payload: { fromLayerKey: 'not-a-key' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
