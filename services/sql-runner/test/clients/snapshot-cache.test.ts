import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { buildApp, CopyDriver, migrateSnapshotCache } from '@taidon/snapshot-cache';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOKUP_CHUNK_KEYS, SnapshotCacheClient } from '../../src/clients/snapshot-cache.js';

const TOKEN = 'lookup-test-token';
const key = () => randomBytes(32).toString('hex');

describe('the lookup of a long key path (a real snapshot-cache)', () => {
  let dir: string;
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: FastifyInstance;
  let url: string;
  const cachedKeys: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-lookup-'));
    const driver = new CopyDriver({ rootDir: dir, bindReadOnly: false });
    await driver.prepare();
    db = await createTestDatabase('sr_lookup');
    pool = createPool(db.url, { applicationName: 'sr-lookup-test' });
    await migrateSnapshotCache(pool);
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
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const headers = { [SERVICE_TOKEN_HEADER]: TOKEN };
    for (let n = 0; n < 3; n++) {
      const volume = (await app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
      await writeFile(join(volume.path, 'PG_VERSION'), '18\n');
      const layer = { key: key(), parentKey: null, volumeId: volume.id, stepCount: 1, buildMs: 1 };
      expect((await app.inject({ method: 'POST', url: '/layers', headers, payload: layer })).statusCode).toBe(201);
      cachedKeys.push(layer.key);
    }
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const client = () =>
    new SnapshotCacheClient({ name: 'snapshot-cache', baseUrl: url, serviceToken: TOKEN, timeoutMs: 30_000 });

  it('answers the 16,001 keys of 16,000 statements (a false 413 before)', async () => {
    const path = Array.from({ length: 16_001 }, key);
    path[9_000] = cachedKeys[0] as string;
    expect(await client().lookup(path)).toEqual({ key: cachedKeys[0], index: 9_000, cached: [9_000] });
  });

  it('takes the most keys its schema allows in one request', async () => {
    const keys = Array.from({ length: 100_000 }, key);
    const response = await app.inject({
      method: 'POST',
      url: '/layers/lookup',
      headers: { [SERVICE_TOKEN_HEADER]: TOKEN },
      payload: { keys },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ key: null, index: -1, cached: [] });
  });

  it('merges the chunks of a path longer than one lookup, in path order', async () => {
    const path = Array.from({ length: 2 * LOOKUP_CHUNK_KEYS + 5_001 }, key);
    const at = [10, LOOKUP_CHUNK_KEYS + 7, 2 * LOOKUP_CHUNK_KEYS + 5_000];
    for (const [n, index] of at.entries()) path[index] = cachedKeys[n] as string;
    expect(await client().lookup(path)).toEqual({ key: cachedKeys[2], index: at[2], cached: at });
    // The deepest cached key may sit in an earlier chunk than the last one.
    path[at[2] as number] = key();
    expect(await client().lookup(path)).toEqual({ key: cachedKeys[1], index: at[1], cached: at.slice(0, 2) });
  });
});
