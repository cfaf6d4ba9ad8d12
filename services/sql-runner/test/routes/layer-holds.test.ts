import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAvailable } from '../../../snapshot-cache/src/drivers/commands.js';
import { asAccount, newAccount, type RunStack, SERVICE_TOKEN, startRunStack } from '../helpers/run-stack.js';

// Layer holds (issue 18: a published exercise's layers pinned and kept warm, ADR 0044), through sql-runner's
// buildApp with a real env-manager and snapshot-cache on btrfs. The cache's budget is one byte: every eviction
// pass takes every layer it may, so a layer that survives one is kept by its pin alone.

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  if (!(await commandAvailable('mkfs.btrfs'))) return 'mkfs.btrfs (btrfs-progs) is not installed';
  return undefined;
}
const reason = await skipReason();

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(reason !== undefined)(`layer holds${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let stack: RunStack;
  beforeAll(async () => {
    stack = await startRunStack({
      warmPoolEmpty: 0,
      driver: 'btrfs',
      throwaway: { maxPerAccount: 2, maxTotal: 6 },
      graderThrowaway: { maxPerAccount: 3, maxTotal: 6 },
      cacheBudgetBytes: 1,
    });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { ...asAccount(newAccount()), ...(body === undefined ? { 'content-type': 'text/plain' } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const hold = (holder: string, body: unknown) => call('PUT', `${stack.sqlRunnerUrl}/layer-holds/${holder}`, body);
  const letGo = (holder: string) => call('DELETE', `${stack.sqlRunnerUrl}/layer-holds/${holder}`);
  const queries = (account: string, body: unknown) =>
    fetch(`${stack.sqlRunnerUrl}/throwaway/queries`, {
      method: 'POST',
      headers: asAccount(account),
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
  const layer = async (key: string) => {
    const response = await fetch(`${stack.cacheUrl}/layers/${key}`, {
      headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN },
    });
    return response.status === 200 ? ((await response.json()) as { pinned: boolean }) : undefined;
  };
  const evict = async () => {
    const response = await fetch(`${stack.cacheUrl}/evict`, {
      method: 'POST',
      headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN },
    });
    return ((await response.json()) as { evicted: string[] }).evicted;
  };
  /** Lookups snapshot-cache answered so far (its per-route request counter). */
  const lookups = async () => {
    const text = await (await fetch(`${stack.cacheUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('taidon_http_requests_total{') && line.includes('route="/layers/lookup"'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  };
  const pooledOf = async (key: string) =>
    (
      await stack.envPool.query<{ id: string }>(
        "SELECT id FROM instances WHERE pooled AND state = 'Running' AND pool_key = $1 ORDER BY id",
        [key],
      )
    ).rows.map((r) => r.id);
  const liveThrowaways = () =>
    eventually(
      async () =>
        (
          await stack.envPool.query(
            "SELECT id FROM instances WHERE owner_role = 'throwaway' AND state NOT IN ('Deleted', 'Failed')",
          )
        ).rows,
      (rows) => rows.length === 0,
      'live throwaway instances',
    );
  const tailOf = (table: string) => ({
    files: [
      { path: 'setup.sql', sql: `CREATE TABLE ${table} (n int PRIMARY KEY);\n` },
      { path: 'datasets/one.sql', sql: `INSERT INTO ${table} SELECT generate_series(1, 3);\n` },
    ],
  });
  /** A dataset's state built on a throwaway clone, as a publish builds it; answers its layer key. */
  const built = async (table: string) => {
    const answer = await queries(newAccount(), { tail: tailOf(table), statements: [{ sql: 'SELECT 1' }] });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    await liveThrowaways();
    return answer.json.layerKey as string;
  };

  it('keeps a held layer through an eviction pass that takes the unpinned ones, until its last holder lets go', async () => {
    const held = await built(`h_${randomUUID().slice(0, 8)}`);
    const first = `exercise:${randomUUID()}`;
    const second = `exercise:${randomUUID()}`;
    const answer = await hold(first, { keys: [held], warm: 0 });
    expect(answer).toEqual({
      status: 200,
      json: { holder: first, keys: [{ key: held, pinned: true, warm: 0, prepared: 0 }] },
    });
    expect((await hold(second, { keys: [held], warm: 0 })).status).toBe(200);
    expect(await layer(held)).toMatchObject({ pinned: true });

    const other = await built(`u_${randomUUID().slice(0, 8)}`);
    const evicted = await evict();
    expect(evicted).toContain(other);
    expect(evicted).not.toContain(held);
    expect(await layer(other)).toBeUndefined();
    expect(await layer(held)).toMatchObject({ pinned: true });

    // One holder lets go: the other still holds it.
    expect((await letGo(first)).status).toBe(204);
    expect(await layer(held)).toMatchObject({ pinned: true });
    expect(await evict()).not.toContain(held);
    // A new publication's keys replace the old ones: the second holder moves to another key and lets go of this one.
    const next = await built(`n_${randomUUID().slice(0, 8)}`);
    expect((await hold(second, { keys: [next], warm: 0 })).json.keys).toEqual([
      { key: next, pinned: true, warm: 0, prepared: 0 },
    ]);
    expect(await layer(held)).toMatchObject({ pinned: false });
    expect(await evict()).toContain(held);
    expect(await layer(held)).toBeUndefined();
    expect(await layer(next)).toMatchObject({ pinned: true });
    expect((await letGo(second)).status).toBe(204);
    expect(await layer(next)).toMatchObject({ pinned: false });
    const { rows } = await stack.pool.query('SELECT holder FROM layer_holds');
    expect(rows).toEqual([]);
  });

  it("serves a held key's graders from its warm instances: each taken once and deleted after its entry, refilled, a write seen by no later request", async () => {
    const table = `w_${randomUUID().slice(0, 8)}`;
    const key = await built(table);
    const holder = `exercise:${randomUUID()}`;
    expect((await hold(holder, { keys: [key], warm: 2 })).json.keys).toEqual([
      { key, pinned: true, warm: 2, prepared: 0 },
    ]);
    const ready = await eventually(
      () => pooledOf(key),
      (ids) => ids.length === 2,
      'pooled instances of the key',
    );
    // What the holder holds, as GET answers it: once the runner's connections to both instances are open, a
    // grader's clone of the key starts on one of them (ADR 0052).
    const status = await eventually(
      () => call('GET', `${stack.sqlRunnerUrl}/layer-holds/${holder}`),
      (answer) => answer.json.keys?.[0]?.prepared === 2,
      'connections opened ahead to them',
      20_000,
    );
    expect(status).toEqual({ status: 200, json: { holder, keys: [{ key, pinned: true, warm: 2, prepared: 2 }] } });
    expect(stack.runs.prepared?.readyFor(key)).toBe(2);
    expect((await call('GET', `${stack.sqlRunnerUrl}/layer-holds/exercise:${randomUUID()}`)).status).toBe(404);

    const account = newAccount();
    const write = await queries(account, {
      tail: tailOf(table),
      statements: [{ sql: `DELETE FROM ${table};\nSELECT count(*) FROM ${table}` }],
    });
    expect(write.status, JSON.stringify(write.json)).toBe(200);
    expect(write.json).toMatchObject({ layerKey: key, source: 'layer', results: [{ ok: true, rows: [['0']] }] });
    // The instance that ran it was one of the pool's: taken out of the pool by the throwaway, then deleted.
    const taken = async (ids: string[]) =>
      (
        await stack.envPool.query<{ id: string; state: string; pooled: boolean }>(
          "SELECT id, state, pooled FROM instances WHERE id = ANY($1) AND owner_role = 'throwaway'",
          [ids],
        )
      ).rows;
    const [used] = await taken(ready);
    expect(used, 'a pooled instance served the entry').toBeDefined();
    expect(used?.pooled).toBe(false);
    expect(await pooledOf(key)).not.toContain(used?.id);
    await eventually(
      async () => (await taken([used?.id as string]))[0]?.state,
      (s) => s === 'Deleted',
      'the used instance',
    );
    // The pool refills to its demand with a new instance.
    const refilled = await eventually(
      () => pooledOf(key),
      (ids) => ids.length === 2 && !ids.includes(used?.id as string),
      'the pool refilled',
    );

    // The next learner's request sees every row: the write died with its instance.
    const read = await queries(newAccount(), {
      tail: tailOf(table),
      statements: [{ sql: `SELECT count(*) FROM ${table}` }],
    });
    expect(read.json).toMatchObject({ results: [{ ok: true, rows: [['3']] }] });
    const [second] = await taken(refilled);
    expect(second, 'a pooled instance served the second request too').toBeDefined();
    expect(second?.id).not.toBe(used?.id);
    await liveThrowaways();

    // Let go: the demand is withdrawn and the pooled instances go.
    expect((await letGo(holder)).status).toBe(204);
    await eventually(
      () => pooledOf(key),
      (ids) => ids.length === 0,
      'pooled instances after the hold was let go',
    );
    expect(await layer(key)).toMatchObject({ pinned: false });
  });

  it("grades one account's entries on a held warm key all at once and without a lookup, past the tests' 2 slots, within the graders' allowance (3), and refuses the next", async () => {
    const table = `g_${randomUUID().slice(0, 8)}`;
    const key = await built(table);
    const holder = `exercise:${randomUUID()}`;
    expect((await hold(holder, { keys: [key], warm: 3 })).json.keys).toEqual([
      { key, pinned: true, warm: 3, prepared: 0 },
    ]);
    await eventually(
      () => pooledOf(key),
      (ids) => ids.length === 3,
      'pooled instances of the key',
    );
    const account = newAccount();
    const sleepy = { tail: tailOf(table), statements: [{ sql: `SELECT pg_sleep(4), count(*) FROM ${table}` }] };
    const mine = async () =>
      (
        await stack.envPool.query<{ id: string; pooled: boolean }>(
          "SELECT id, pooled FROM instances WHERE owner_id = $1 AND state NOT IN ('Deleted', 'Failed')",
          [`throwaway:${account}`],
        )
      ).rows;
    const lookupsBefore = await lookups();
    const graded = [queries(account, sleepy), queries(account, sleepy), queries(account, sleepy)];
    // Three instances of the account at once, each taken from the pool: more than THROWAWAY_MAX_PER_ACCOUNT (2).
    await eventually(mine, (rows) => rows.length === 3, "the account's instances while its entries sleep", 20_000);
    const fourth = await queries(account, sleepy);
    expect(fourth.status).toBe(429);
    expect(fourth.json.code).toBe('SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY');
    for (const answer of await Promise.all(graded)) {
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json).toMatchObject({ layerKey: key, results: [{ ok: true, rows: [['', '3']] }] });
    }
    // The key is held with its layer pinned: no request asked snapshot-cache where its layer is.
    expect(await lookups()).toBe(lookupsBefore);
    await liveThrowaways();

    // A state held with no warm instances still counts against the tests' and EXPLAIN's 2 slots.
    expect((await hold(holder, { keys: [key], warm: 0 })).json.keys).toEqual([
      { key, pinned: true, warm: 0, prepared: expect.any(Number) },
    ]);
    await eventually(
      () => pooledOf(key),
      (ids) => ids.length === 0,
      'pooled instances after warm 0',
    );
    const coldBefore = await lookups();
    const cold = await Promise.all([queries(account, sleepy), queries(account, sleepy), queries(account, sleepy)]);
    expect(cold.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    expect(await lookups()).toBeGreaterThan(coldBefore); // without warm demand, the layer is looked up
    await liveThrowaways();
    expect((await letGo(holder)).status).toBe(204);
  }, 120_000);

  it('refuses a malformed holder or key with 400', async () => {
    expect((await hold('exercise:a.b', { keys: ['a'.repeat(64)] })).status).toBe(400);
    expect((await hold(`exercise:${randomUUID()}`, { keys: ['not-a-key'] })).status).toBe(400);
    expect((await hold(`exercise:${randomUUID()}`, { keys: [] })).status).toBe(400);
  });
});
