import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, randomKey, SERVICE_TOKEN, type Stack } from '../helpers/stack.js';

let stack: Stack;
let availableBytes: number | undefined;
const headers = { 'x-taidon-service-token': SERVICE_TOKEN };

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  stack = await createStack({
    env: { RECONCILE_INTERVAL_MS: '50', WARM_POOL_MAX_INSTANCES: '3' },
    deps: { runLoops: true, memAvailable: async () => availableBytes },
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('env-manager HTTP API', () => {
  it('answers 401 without the service token, and serves health and metrics without it', async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/engine' })).statusCode).toBe(401);
    expect((await stack.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('taidon_instances{state="Running",service="env-manager"}');
  });

  it('GET /engine answers the template identity', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/engine', headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      engine: 'postgresql',
      version: expect.stringMatching(/^18\./),
      templateVersion: 1,
      settings: { TimeZone: 'UTC', statement_timeout: '30000ms', temp_file_limit: '1048576kB' },
    });
  });

  it('runs an instance through create, key, touch, layer, suspend, resume, list and delete', async () => {
    const created = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers,
      payload: { ownerId: 'route-owner', ownerRole: 'anonymous', layerKey: null },
    });
    expect(created.statusCode).toBe(201);
    const info = created.json();
    expect(info).toMatchObject({ host: '127.0.0.1', database: 'sandbox', user: 'learner', source: 'template' });
    expect(info.admin.user).toBe('postgres');
    const key = randomKey();
    const patched = await stack.app.inject({
      method: 'PATCH',
      url: `/instances/${info.id}`,
      headers,
      payload: { currentKey: key },
    });
    expect(patched.json()).toMatchObject({ currentKey: key });
    expect((await stack.app.inject({ method: 'POST', url: `/instances/${info.id}/touch`, headers })).statusCode).toBe(
      200,
    );
    // The runner's batch: one statement for many instances; an id given twice counts once, with its last key.
    const usedBefore = Date.parse(
      (await stack.app.inject({ method: 'GET', url: `/instances/${info.id}`, headers })).json().lastUsedAt,
    );
    const batchKey = randomKey();
    const gone = '00000000-0000-4000-8000-000000000001';
    const batch = await stack.app.inject({
      method: 'POST',
      url: '/instances/touch',
      headers,
      payload: { instances: [{ id: info.id, currentKey: batchKey }, { id: info.id, currentKey: null }, { id: gone }] },
    });
    expect(batch.statusCode).toBe(200);
    expect(batch.json()).toEqual({ updated: [info.id], notLive: [gone] });
    const batched = (await stack.app.inject({ method: 'GET', url: `/instances/${info.id}`, headers })).json();
    expect(batched.currentKey).toBe(batchKey);
    expect(Date.parse(batched.lastUsedAt)).toBeGreaterThan(usedBefore);
    const badKey = await stack.app.inject({
      method: 'POST',
      url: '/instances/touch',
      headers,
      payload: { instances: [{ id: info.id, currentKey: 'not-a-key' }] },
    });
    expect(badKey.json().code).toBe('VALIDATION_FAILED');
    const layer = await stack.app.inject({
      method: 'POST',
      url: `/instances/${info.id}/layers`,
      headers,
      payload: { key, parentKey: null, stepCount: 0, buildMs: 1 },
    });
    expect(layer.statusCode).toBe(201);
    expect(layer.json().layer.key).toBe(key);
    const suspended = await stack.app.inject({ method: 'POST', url: `/instances/${info.id}/suspend`, headers });
    expect(suspended.json()).toMatchObject({ state: 'Suspended' });
    const resumed = await stack.app.inject({ method: 'POST', url: `/instances/${info.id}/resume`, headers });
    expect(resumed.json()).toMatchObject({ state: 'Running', source: 'resume', currentKey: batchKey });
    const list = await stack.app.inject({ method: 'GET', url: '/instances?ownerId=route-owner', headers });
    expect(list.json().map((i: { id: string }) => i.id)).toEqual([info.id]);
    const one = await stack.app.inject({ method: 'GET', url: `/instances/${info.id}`, headers });
    expect(one.json().transitions.map((t: { to: string }) => t.to)).toContain('Suspended');
    const deleted = await stack.app.inject({ method: 'DELETE', url: `/instances/${info.id}`, headers });
    expect(deleted.json()).toMatchObject({ state: 'Deleted' });
  });

  it('answers problem+json with stable codes', async () => {
    const missing = await stack.app.inject({
      method: 'GET',
      url: '/instances/00000000-0000-4000-8000-000000000000',
      headers,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('ENV_MANAGER_INSTANCE_NOT_FOUND');
    const noLayer = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers,
      payload: { ownerId: 'x', layerKey: randomKey() },
    });
    expect(noLayer.statusCode).toBe(404);
    expect(noLayer.json().code).toBe('ENV_MANAGER_LAYER_NOT_FOUND');
    const bad = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers,
      payload: { ownerId: 'x', layerKey: 'nope' },
    });
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const full = await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 4 } });
    expect(full.statusCode).toBe(409);
    expect(full.json().code).toBe('ENV_MANAGER_WARM_POOL_FULL');
  });

  it('serves a create from the warm pool, refills it, and shrinks it under memory pressure', async () => {
    const put = await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 1 } });
    expect(put.statusCode).toBe(200);
    const ready = async () =>
      (await stack.pool.query(`SELECT id FROM instances WHERE pooled AND state = 'Running'`)).rows as { id: string }[];
    const first = await until(ready, (rows) => rows.length === 1);
    expect(first).toHaveLength(1);
    const taken = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers,
      payload: { ownerId: 'pool-owner', layerKey: null },
    });
    const info = taken.json();
    console.log(`create from the warm pool: ${info.readyMs} ms`);
    expect(info).toMatchObject({ source: 'pool', id: first[0]?.id });
    const client = new pg.Client({ host: '127.0.0.1', port: info.port, user: 'learner', database: 'sandbox' });
    await client.connect();
    await client.end();
    const refilled = await until(ready, (rows) => rows.length === 1 && rows[0]?.id !== info.id);
    expect(refilled).toHaveLength(1);
    expect((await stack.app.inject({ method: 'GET', url: '/warm-pool', headers })).json()).toEqual([
      { key: 'template', size: 1, instances: 1 },
    ]);
    availableBytes = 1;
    const shrunk = await until(ready, (rows) => rows.length === 0);
    expect(shrunk).toHaveLength(0);
    availableBytes = undefined;
    await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 0 } });
    await stack.app.inject({ method: 'DELETE', url: `/instances/${info.id}`, headers });
  });

  it('creates a batch: the pooled instances named are claimed for their own inputs, the rest created, a refusal its own', async () => {
    const put = await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 2 } });
    expect(put.statusCode).toBe(200);
    const ready = async () =>
      (await stack.pool.query(`SELECT id FROM instances WHERE pooled AND state = 'Running' ORDER BY created_at`))
        .rows as { id: string }[];
    const pooled = await until(ready, (rows) => rows.length === 2, 60_000);
    expect(pooled).toHaveLength(2);
    const [older, newer] = pooled.map((r) => r.id) as [string, string];
    // Named in the other order than a claim by key takes them, the older one twice: the second input naming it
    // gets another instance, and a layer snapshot-cache does not have is that input's refusal alone.
    const batch = await stack.app.inject({
      method: 'POST',
      url: '/instances/batch',
      headers,
      payload: {
        instances: [
          { ownerId: 'batch-a', ownerRole: 'throwaway', layerKey: null, preferInstanceId: newer },
          { ownerId: 'batch-b', ownerRole: 'throwaway', layerKey: null, preferInstanceId: older },
          { ownerId: 'batch-c', ownerRole: 'throwaway', layerKey: null, preferInstanceId: older },
          { ownerId: 'batch-d', layerKey: randomKey() },
        ],
      },
    });
    expect(batch.statusCode, batch.body).toBe(200);
    const [a, b, c, d] = batch.json().answers;
    expect(a).toMatchObject({ ok: true, instance: { id: newer, source: 'pool', state: 'Running' } });
    expect(b).toMatchObject({ ok: true, instance: { id: older, source: 'pool' } });
    expect(c.ok).toBe(true);
    expect([older, newer]).not.toContain(c.instance.id);
    expect(d).toMatchObject({ ok: false, statusCode: 404, code: 'ENV_MANAGER_LAYER_NOT_FOUND' });
    const owners = await stack.pool.query<{ id: string; owner_id: string; owner_role: string; pooled: boolean }>(
      'SELECT id, owner_id, owner_role, pooled FROM instances WHERE id = ANY($1::uuid[]) ORDER BY owner_id',
      [[a.instance.id, b.instance.id, c.instance.id]],
    );
    expect(owners.rows).toEqual([
      { id: newer, owner_id: 'batch-a', owner_role: 'throwaway', pooled: false },
      { id: older, owner_id: 'batch-b', owner_role: 'throwaway', pooled: false },
      { id: c.instance.id, owner_id: 'batch-c', owner_role: 'throwaway', pooled: false },
    ]);
    // Each answer is a server that takes connections.
    for (const info of [a.instance, b.instance, c.instance]) {
      const client = new pg.Client({ host: '127.0.0.1', port: info.port, user: 'learner', database: 'sandbox' });
      await client.connect();
      await client.end();
    }
    const tooMany = await stack.app.inject({
      method: 'POST',
      url: '/instances/batch',
      headers,
      payload: { instances: Array.from({ length: 17 }, () => ({ ownerId: 'x', layerKey: null })) },
    });
    expect([tooMany.statusCode, tooMany.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 0 } });
    for (const info of [a.instance, b.instance, c.instance])
      await stack.app.inject({ method: 'DELETE', url: `/instances/${info.id}`, headers });
    expect(await until(ready, (rows) => rows.length === 0, 60_000)).toHaveLength(0);
  }, 120_000);

  it('fills a pool several instances at a time, half the creation slots at once', async () => {
    const put = await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 3 } });
    expect(put.statusCode).toBe(200);
    const ready = async () =>
      (await stack.pool.query(`SELECT id FROM instances WHERE pooled AND state = 'Running'`)).rows as { id: string }[];
    expect(await until(ready, (rows) => rows.length === 3, 120_000)).toHaveLength(3);
    // Each pooled instance's creation, from Creating to Running: with INSTANCE_START_CONCURRENCY 4, two overlap.
    const { rows } = await stack.pool.query<{ started: Date; ready: Date }>(
      `SELECT min(t.at) FILTER (WHERE t.to_state = 'Creating') AS started,
              min(t.at) FILTER (WHERE t.to_state = 'Running') AS ready
         FROM instances i JOIN instance_transitions t ON t.instance_id = i.id
        WHERE i.pooled AND i.state = 'Running' GROUP BY i.id ORDER BY started`,
    );
    const overlapping = rows.some((a, k) => rows.slice(k + 1).some((b) => b.started < a.ready && a.started < b.ready));
    expect(overlapping).toBe(true);
    await stack.app.inject({ method: 'PUT', url: '/warm-pool/template', headers, payload: { size: 0 } });
    expect(await until(ready, (r) => r.length === 0, 60_000)).toHaveLength(0);
  }, 180_000);
});

describe('env-manager creation queue', () => {
  let queued: Stack;
  beforeAll(async () => {
    queued = await createStack({ env: { INSTANCE_START_CONCURRENCY: '1' } });
  });
  afterAll(async () => {
    await queued?.close();
  });

  it('withdraws a queued creation whose caller closed the request, and starts nothing for it', async () => {
    const url = await queued.app.listen({ host: '127.0.0.1', port: 0 });
    const create = (ownerId: string, signal?: AbortSignal) =>
      fetch(`${url}/instances`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ ownerId, layerKey: null }),
        ...(signal ? { signal } : {}),
      });
    // The only slot: a template instance (initdb and setup take about a second).
    const first = create('queue-first');
    const rowsOf = async (ownerId: string) =>
      (
        await queued.pool.query<{ id: string; state: string; pid: number | null; volume_id: string | null }>(
          'SELECT id, state, pid, volume_id FROM instances WHERE owner_id = $1',
          [ownerId],
        )
      ).rows;
    await until(
      () => rowsOf('queue-first'),
      (rows) => rows[0]?.state === 'Creating',
    );
    const gaveUp = new AbortController();
    const second = create('queue-gave-up', gaveUp.signal);
    await until(
      () => rowsOf('queue-gave-up'),
      (rows) => rows.length === 1,
    );
    gaveUp.abort();
    await expect(second).rejects.toThrow();
    const withdrawn = await until(
      () => rowsOf('queue-gave-up'),
      (rows) => rows[0]?.state === 'Failed',
    );
    expect(withdrawn).toMatchObject([{ state: 'Failed', pid: null, volume_id: null }]);
    const reason = await queued.pool.query<{ reason: string }>(
      `SELECT reason FROM instance_transitions WHERE instance_id = $1 AND to_state = 'Failed'`,
      [withdrawn[0]?.id],
    );
    expect(reason.rows[0]?.reason).toMatch(/gave up/);
    const done = await first;
    expect(done.status).toBe(201);
    const info = (await done.json()) as { id: string };
    // The slot went on to nobody else: the first instance is the only one that ever started.
    expect((await rowsOf('queue-first'))[0]).toMatchObject({ id: info.id, state: 'Running' });
    await queued.app.inject({ method: 'DELETE', url: `/instances/${info.id}`, headers });
  }, 60_000);
});
