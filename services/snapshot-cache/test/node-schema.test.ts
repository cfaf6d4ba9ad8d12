import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionServiceDatabase, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshotCacheConfig } from '../src/config.js';
import { nodeSchema, type StartedSnapshotCache, startSnapshotCache } from '../src/start.js';
import { randomKey } from './helpers.js';

// Node agents of one release share the control-plane database (the chart
// gives every agent the same URL); each keeps its records in its node's
// schema, so one agent's start (which forgets records whose data is not on its
// own disk) never forgets another node's layers, and a lookup answers only
// for the layers on its own node.

const TOKEN = 'test-service-token';
const headers = { [SERVICE_TOKEN_HEADER]: TOKEN };

describe('snapshot-cache node agents sharing one database', () => {
  let db: TestDatabase;
  let dir: string;
  /** A role provisioned as the migration Job provisions snapshot-cache's (a name of its own: roles are server-wide). */
  let service: { role: string; url: string };
  const started = new Map<string, StartedSnapshotCache>();

  const start = async (node: string) => {
    const agent = await startSnapshotCache(
      loadSnapshotCacheConfig({
        SNAPSHOT_CACHE_DATABASE_URL: service.url,
        SNAPSHOT_CACHE_ROOT: join(dir, node),
        SNAPSHOT_CACHE_DRIVER: 'copy',
        SNAPSHOT_CACHE_NODE_NAME: node,
        SERVICE_TOKEN: TOKEN,
      }),
      { logger: captureLogger(`snapshot-cache-${node}`).logger },
    );
    started.set(node, agent);
    return agent;
  };
  const stop = async (node: string) => {
    await started.get(node)?.close();
    started.delete(node);
  };

  beforeAll(async () => {
    db = await createTestDatabase('sc_nodes');
    const name = `sc_nodes_${randomBytes(4).toString('hex')}`;
    service = await provisionServiceDatabase(db.url, name, randomBytes(12).toString('hex'), { createSchemas: true });
    dir = await mkdtemp(join(tmpdir(), 'taidon-nodes-'));
  });
  afterAll(async () => {
    for (const node of [...started.keys()]) await stop(node);
    await db.drop();
    const server = new URL(db.url);
    server.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${service.role}`).finally(() => admin.end());
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps each node's layers in its node's schema (made by the service's own role): no agent answers for, or forgets, another's", async () => {
    const a = await start('node-a.example');
    await start('node-b.example');
    const key = randomKey();
    const volume = (await a.app.inject({ method: 'POST', url: '/volumes', headers, payload: {} })).json();
    await writeFile(join(volume.path, 'PG_VERSION'), '18\n');
    const layer = { key, parentKey: null, volumeId: volume.id, stepCount: 1, buildMs: 1 };
    expect((await a.app.inject({ method: 'POST', url: '/layers', headers, payload: layer })).statusCode).toBe(201);
    const lookup = async (node: string) =>
      (
        await started
          .get(node)
          ?.app.inject({ method: 'POST', url: '/layers/lookup', headers, payload: { keys: [key] } })
      )?.json();
    expect(await lookup('node-a.example')).toMatchObject({ key, index: 0 });
    expect(await lookup('node-b.example')).toMatchObject({ key: null, index: -1 });

    // B starts again (its reconcile forgets records whose data is not on B's disk), then A: A's layer is there.
    await stop('node-b.example');
    await start('node-b.example');
    await stop('node-a.example');
    await start('node-a.example');
    expect(await lookup('node-a.example')).toMatchObject({ key, index: 0 });

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'snapshot\\_cache\\_node\\_%' ORDER BY nspname`,
      );
      expect(rows.map((r) => r.nspname)).toEqual([nodeSchema('node-a.example'), nodeSchema('node-b.example')].sort());
      const layers = await client.query(`SELECT key FROM ${nodeSchema('node-a.example')}.layers`);
      expect(layers.rows).toEqual([{ key }]);
    } finally {
      await client.end();
    }
  });
});
