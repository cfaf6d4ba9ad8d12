import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from './platform.js';
import { rowsOf, run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_WARM_POOL_EMPTY = '2';

interface Pooled {
  id: string;
  port: number;
}

/** Backend pids of the runner's learner connections on a pooled instance, seen from a connection of our own. */
async function learnerBackends(port: number): Promise<number[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'sandbox' });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'taidon-learner' AND pid <> pg_backend_pid()",
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

describe('a run served from the warm pool', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.signIn();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('runs its head on the connection the runner opened to that pooled instance before the run', async () => {
    const plan = await post(`${stack.url}/api/plan`, { sql: '' }, { authorization: `Bearer ${token}` });
    const baseKey = plan.body.baseKey as string;
    const pooled = async (query = ''): Promise<Pooled[]> => {
      const response = await fetch(`${stack.services.envManagerUrl}/warm-pool/instances${query}`, {
        headers: { 'x-taidon-service-token': stack.serviceToken },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as (Pooled & { poolKey: string })[]).filter((i) => i.poolKey === baseKey);
    };

    // Both pooled instances up, each with a learner connection the runner opened on its own.
    const prepared = new Map<string, number[]>();
    const deadline = Date.now() + 60_000;
    while (prepared.size < 2) {
      expect(Date.now(), 'pooled instances with prepared connections').toBeLessThan(deadline);
      prepared.clear();
      for (const instance of await pooled()) {
        const pids = await learnerBackends(instance.port);
        if (pids.length > 0) prepared.set(instance.id, pids);
      }
      await new Promise((r) => setTimeout(r, 50));
    }

    // A runner asks for the oldest few of each pool only: the list is bounded however large a pool grows.
    const oldest = await pooled('?perKey=1');
    expect(oldest).toHaveLength(1);
    expect([...prepared.keys()]).toContain(oldest[0]?.id);

    const result = await run(stack, token, { head: 'SELECT pg_backend_pid()::int' });
    const done = result.events.at(-1);
    expect(done).toMatchObject({ type: 'done', outcome: 'ok', source: 'pool', warmPool: true, layerKey: baseKey });
    const pid = Number(rowsOf(result.events)[0]?.[0]);
    const owners = [...prepared.entries()].filter(([, pids]) => pids.includes(pid));
    expect(owners).toHaveLength(1);
    // The instance left the pool with the run: the pool no longer lists it, and it is the anonymous learner's
    // now (so the idle TTL of anonymous owners applies to it).
    const [instanceId] = owners[0] as [string, number[]];
    expect((await pooled()).map((i) => i.id)).not.toContain(instanceId);
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT owner_role, pooled FROM env_manager.instances WHERE id = $1', [
        instanceId,
      ]);
      expect(rows).toEqual([{ owner_role: 'anonymous', pooled: false }]);
    } finally {
      await db.end();
    }
  }, 120_000);
});
