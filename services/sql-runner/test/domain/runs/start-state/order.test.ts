import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START_STRATEGIES } from '../../../../src/domain/runs/start-state/index.js';
import {
  asAccount,
  type Event,
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  startRunStack,
} from '../../../helpers/run-stack.js';

// The order in which a run's starting state is obtained (start-state/index.ts), through POST /runs on
// sql-runner's own buildApp with a real env-manager and snapshot-cache. Volatile values (random()) tell
// which instance a run got: a replay would have drawn another one.

describe('the starting state of a run, strategy by strategy', () => {
  let stack: RunStack;
  let baseKey: string;

  const plan = async (body: unknown, account: string) => {
    const response = await fetch(`${stack.sqlRunnerUrl}/plan`, {
      method: 'POST',
      headers: asAccount(account),
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { baseKey: string; finalKey: string; steps: { key: string }[] };
  };
  /** Waits until env-manager's pool of `key` has a started instance and the runner a connection to it. */
  const poolReady = async (key: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pooled = (await stack.runs.envManager.pooled(4)).filter((i) => i.poolKey === key && i.port !== null);
      if (pooled.length > 0) {
        // The runner looks at the pools every 100 ms; one more look makes its connection certain.
        await stack.runs.prepared?.refresh();
        return;
      }
      expect(Date.now(), `a pooled instance of ${key}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const sessionRow = async (id: string) =>
    (await stack.pool.query<{ instance_id: string }>('SELECT instance_id FROM sessions WHERE id = $1', [id])).rows[0];

  beforeAll(async () => {
    stack = await startRunStack({ warmPoolEmpty: 1 });
    baseKey = (await plan({ sql: '' }, newAccount())).baseKey;
    await poolReady(baseKey);
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it('lists its strategies in the order they are tried', () => {
    expect(START_STRATEGIES.map((s) => s.name)).toEqual([
      'session-instance',
      'template-reset',
      'prepared-connection',
      'known-layer',
      'cached-layer',
      'build',
    ]);
  });

  it('builds from the warm pool of K0 when nothing deeper is cached, and a deeper layer wins over that pool after', async () => {
    const table = `t_${randomUUID().slice(0, 8)}`;
    const scripts = [
      { path: 'init/01.sql', sql: `CREATE TABLE ${table} AS SELECT random() AS x;` },
      { path: 'seed/02.sql', sql: `INSERT INTO ${table} VALUES (2);` },
    ];
    const head = `SELECT x FROM ${table} WHERE x < 1;`;
    const first = await run(stack, newAccount(), { tail: { files: scripts }, head });
    expect(lastOf(first)).toMatchObject({
      type: 'done',
      outcome: 'ok',
      source: 'pool',
      warmPool: true,
      layerKey: baseKey,
      stepsReplayed: 2,
    });
    const keys = (await plan({ files: scripts }, newAccount())).steps.map((s) => s.key);
    await poolReady(baseKey);

    // One script more: its state is not cached, the state after the second script is (a layer at each script's end).
    const longer = { files: [...scripts, { path: 'seed/03.sql', sql: `INSERT INTO ${table} VALUES (3);` }] };
    const second = await run(stack, newAccount(), { tail: longer, head });
    expect(lastOf(second)).toMatchObject({
      type: 'done',
      outcome: 'ok',
      source: 'clone',
      warmPool: false,
      layerKey: keys[1],
      stepsReplayed: 1,
    });
    // Not replayed from the pool's K0: the random value is the first build's.
    expect(rowsOf(second)).toEqual(rowsOf(first));
  });

  it("takes the session's instance at K(tail) over a layer and a warm pool at that key; a new session takes the pool", async () => {
    const table = `s_${randomUUID().slice(0, 8)}`;
    const create = { path: 'init/01.sql', sql: `CREATE TABLE ${table} (x float8);` };
    const draw = `INSERT INTO ${table} SELECT random() RETURNING x;`;
    const head = `SELECT x FROM ${table};`;
    const account = newAccount();
    const sessionId = randomUUID();
    const mine = await run(stack, account, { sessionId, tail: { files: [create] }, head: draw });
    expect(lastOf(mine)).toMatchObject({ outcome: 'ok' });
    // The session's instance is at K(create + draw) now: that chain as a tail names its state.
    const tail = { files: [create, { path: 'head.sql', sql: draw }] };
    const key = (await plan(tail, account)).finalKey;
    expect(lastOf(mine).instanceKey).toBe(key);
    // Another learner builds that state (draws another value) and leaves a layer of it; a pool of it is kept.
    const theirs = await run(stack, newAccount(), { tail, head });
    expect(lastOf(theirs)).toMatchObject({ outcome: 'ok', stepsReplayed: 1 });
    expect(rowsOf(theirs)).not.toEqual(rowsOf(mine));
    await stack.runs.envManager.warmPool(key, 1);
    try {
      await poolReady(key);
      const instanceBefore = (await sessionRow(sessionId))?.instance_id;
      const again = await run(stack, account, { sessionId, tail, head });
      expect(lastOf(again)).toMatchObject({
        outcome: 'ok',
        source: 'session',
        warmPool: false,
        layerKey: null,
        stepsReplayed: 0,
      });
      expect(rowsOf(again)).toEqual(rowsOf(mine));
      expect((await sessionRow(sessionId))?.instance_id).toBe(instanceBefore);

      const fresh = await run(stack, account, { tail, head });
      expect(lastOf(fresh)).toMatchObject({ outcome: 'ok', source: 'pool', warmPool: true, layerKey: key });
      expect(rowsOf(fresh)).toEqual(rowsOf(theirs));
    } finally {
      await stack.runs.envManager.warmPool(key, 0);
    }
  });

  it('continues the session instance for a head alone; once it is gone, starts from the empty database and says so', async () => {
    const account = newAccount();
    const sessionId = randomUUID();
    const table = `h_${randomUUID().slice(0, 8)}`;
    await run(stack, account, { sessionId, head: `CREATE TABLE ${table} (n int);` });
    const count = `SELECT count(*) FROM pg_tables WHERE tablename = '${table}';`;
    const continued = await run(stack, account, { sessionId, head: count });
    expect(lastOf(continued)).toMatchObject({ outcome: 'ok', source: 'session' });
    expect(rowsOf(continued)).toEqual([['1']]);

    const instanceId = (await sessionRow(sessionId))?.instance_id as string;
    // As when env-manager reclaims an idle instance: the runner's connection to it goes with it.
    await stack.runs.connections.drop(sessionId);
    await stack.runs.envManager.delete(instanceId);
    const restarted = await run(stack, account, { sessionId, head: count });
    expect(restarted.find((e: Event) => e.type === 'notice')?.message).toMatch(/previous instance is gone/);
    expect(lastOf(restarted)).toMatchObject({ outcome: 'ok', layerKey: baseKey, stepsReplayed: 0 });
    expect(['pool', 'clone']).toContain(lastOf(restarted).source);
    expect(rowsOf(restarted)).toEqual([['0']]);
    expect((await sessionRow(sessionId))?.instance_id).not.toBe(instanceId);
  });
});
