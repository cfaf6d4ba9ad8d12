import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asAccount,
  type Event,
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  SERVICE_TOKEN,
  startRun,
  startRunStack,
} from '../helpers/run-stack.js';

// Share links with a real env-manager and snapshot-cache: a link's run starts from the layer it pins, a
// revoked or expired link is gone (404) and lets go of the pin, and strangers are bounded.

describe('share links', () => {
  let stack: RunStack;

  const call = async (method: string, path: string, account?: string, body?: unknown) => {
    const headers = account ? asAccount(account) : { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN };
    if (body === undefined) delete (headers as Record<string, string>)['content-type'];
    const response = await fetch(`${stack.sqlRunnerUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
  };
  /** The layer of `key` as snapshot-cache holds it (its pin), or undefined when it has none. */
  const layer = async (key: string): Promise<{ pinned: boolean } | undefined> => {
    const response = await fetch(`${stack.cacheUrl}/layers/${key}`, {
      headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN },
    });
    return response.status === 404 ? undefined : ((await response.json()) as { pinned: boolean });
  };
  const shareRow = async (id: string) =>
    (
      await stack.pool.query<{ pinned: boolean; revoked_at: Date | null }>(
        'SELECT pinned, revoked_at FROM shares WHERE id = $1',
        [id],
      )
    ).rows[0];
  /** A tail whose state only its layer gives back: random() differs on every replay. */
  const randomTail = () => {
    const table = `s_${randomUUID().slice(0, 8)}`;
    return { table, tail: { sql: `CREATE TABLE ${table} AS SELECT g, random() AS r FROM generate_series(1, 3) g;` } };
  };
  const doneOf = (events: Event[]) => lastOf(events);
  /** Plans sql-runner has queued for its workers so far (taidon_planner_jobs_total). */
  const plannerJobs = async () => {
    const answer = await fetch(`${stack.sqlRunnerUrl}/metrics`, { headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN } });
    const text = await answer.text();
    const line = text.split('\n').find((l) => l.startsWith('taidon_planner_jobs_total{') && l.includes('"queued"'));
    return Number(line?.split(' ').at(-1) ?? 0);
  };

  beforeAll(async () => {
    stack = await startRunStack({
      shares: { maxPerAnonymous: 3, maxPerAccount: 50, createPerMinute: 5, sweepIntervalMs: 200, ttlSeconds: 3600 },
    });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it("starts a link's run from the layer it pins, with zero steps replayed and the owner's rows", async () => {
    const owner = newAccount();
    const { table, tail } = randomTail();
    const head = `SELECT g, r FROM ${table} ORDER BY g;`;
    const ownerRun = await run(stack, owner, { tail, head });
    expect(doneOf(ownerRun)).toMatchObject({ type: 'done', outcome: 'ok' });
    const created = await call('POST', '/shares', owner, { tail, head });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created.json.url).toBe(`/s/${id}`);

    // Anyone holding the id reads it without an account; nothing in it names the owner.
    const opened = await call('GET', `/shares/${id}`);
    expect(opened.status).toBe(200);
    expect(opened.json).toMatchObject({ tail, head });
    expect(opened.text).not.toContain(owner);
    expect(await layer(opened.json.key)).toMatchObject({ pinned: true });
    expect(await shareRow(id)).toMatchObject({ pinned: true });

    const stranger = newAccount();
    const events = await run(stack, stranger, { tail: { share: id }, head });
    expect(doneOf(events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 0, layerKey: opened.json.key });
    expect(rowsOf(events)).toEqual(rowsOf(ownerRun));
  }, 120_000);

  it('pins a layer built by the first run of a link made before it existed, and later runs replay nothing', async () => {
    const owner = newAccount();
    const { table, tail } = randomTail();
    const head = `SELECT count(*) FROM ${table};`;
    const created = await call('POST', '/shares', owner, { tail, head });
    expect(created.status).toBe(201);
    const { key } = (await call('GET', `/shares/${created.json.id}`)).json;
    expect(await layer(key)).toBeUndefined();
    expect((await call('GET', '/shares', owner)).json.shares).toMatchObject([{ id: created.json.id, pinned: false }]);

    const first = await run(stack, newAccount(), { tail: { share: created.json.id }, head });
    expect(doneOf(first)).toMatchObject({ outcome: 'ok', stepsReplayed: 1 });
    await expect.poll(async () => (await layer(key))?.pinned, { timeout: 10_000 }).toBe(true);
    expect((await call('GET', '/shares', owner)).json.shares).toMatchObject([{ id: created.json.id, pinned: true }]);
    const second = await run(stack, newAccount(), { tail: { share: created.json.id }, head });
    expect(doneOf(second)).toMatchObject({ outcome: 'ok', stepsReplayed: 0, layerKey: key });
  }, 120_000);

  it('answers 404 for a revoked link, lets only its owner revoke it, and keeps a pin another live link holds', async () => {
    const owner = newAccount();
    const { table, tail } = randomTail();
    const head = `SELECT * FROM ${table};`;
    expect(doneOf(await run(stack, owner, { tail, head }))).toMatchObject({ outcome: 'ok' });
    const a = (await call('POST', '/shares', owner, { tail, head })).json.id as string;
    const b = (await call('POST', '/shares', owner, { tail: { share: a }, head: 'SELECT 1;' })).json.id as string;
    const { key } = (await call('GET', `/shares/${a}`)).json;
    expect((await call('GET', `/shares/${b}`)).json).toMatchObject({ tail, key });

    const intruder = await call('DELETE', `/shares/${a}`, newAccount());
    expect(intruder.status).toBe(404);
    expect(intruder.json.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    expect((await call('GET', `/shares/${a}`)).status).toBe(200);

    expect((await call('DELETE', `/shares/${a}`, owner)).status).toBe(204);
    const gone = await call('GET', `/shares/${a}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(gone.json.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    const refused = await startRun(stack, newAccount(), { tail: { share: a }, head });
    expect(refused.status).toBe(404);
    expect(refused.problem.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    expect((await call('DELETE', `/shares/${a}`, owner)).status).toBe(404);
    // b still holds the layer of the same state.
    expect(await layer(key)).toMatchObject({ pinned: true });
    expect((await call('GET', '/shares', owner)).json.shares.map((s: { id: string }) => s.id)).toEqual([b]);

    expect((await call('DELETE', `/shares/${b}`, owner)).status).toBe(204);
    expect(await layer(key)).toMatchObject({ pinned: false });
    expect(await shareRow(b)).toMatchObject({ pinned: false, revoked_at: expect.any(Date) });
    // Malformed and unknown ids are answered alike.
    expect((await call('GET', '/shares/not-an-id')).json.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    expect((await call('GET', `/shares/${'A'.repeat(22)}`)).status).toBe(404);
  }, 120_000);

  it('previews a link and lists links from the start of each head, never their megabytes', async () => {
    const owner = newAccount();
    const head = `-- Top readers\n${'SELECT 1;\n'.repeat(1000)}`;
    const created = await call('POST', '/shares', owner, { head });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const preview = await call('GET', `/shares/${id}/preview`);
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({ head: head.slice(0, 4096) });
    expect((await call('GET', '/shares', owner)).json.shares).toMatchObject([{ id, title: '-- Top readers' }]);
    expect((await call('DELETE', `/shares/${id}`, owner)).status).toBe(204);
    const gone = await call('GET', `/shares/${id}/preview`);
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    expect((await call('GET', '/shares/not-an-id/preview')).status).toBe(404);
  }, 60_000);

  it('carries the results only when the owner includes them, bounded, and counts them in the account cap', async () => {
    const owner = newAccount();
    const head = 'SELECT 1 AS n;';
    const plain = (await call('POST', '/shares', owner, { head })).json.id as string;
    expect((await call('GET', `/shares/${plain}`)).json).not.toHaveProperty('results');
    const results = [{ columns: [{ name: 'n', type: 'int4' }], rows: [['1'], [null]], truncated: false }];
    const withResults = await call('POST', '/shares', owner, { head, results });
    expect(withResults.status).toBe(201);
    const opened = (await call('GET', `/shares/${withResults.json.id}`)).json;
    expect(opened.results).toEqual(results);
    expect(JSON.stringify(opened)).not.toContain(owner);
    const { rows } = await stack.pool.query<{ size_chars: string }>('SELECT size_chars FROM shares WHERE id = $1', [
      withResults.json.id,
    ]);
    expect(Number(rows[0]?.size_chars)).toBe(head.length + JSON.stringify(results).length);

    // 1,000 rows of 300 characters: within the schema's counts, past the characters a link may carry.
    const big = [
      {
        columns: [{ name: 'v', type: 'text' }],
        rows: Array.from({ length: 1000 }, () => ['x'.repeat(300)]),
        truncated: true,
      },
    ];
    const refused = await call('POST', '/shares', newAccount(), { head, results: big });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ code: 'SQL_RUNNER_SHARE_RESULTS_TOO_LARGE', limit: 262144 });
    const tooMany = await call('POST', '/shares', newAccount(), {
      head,
      results: [{ columns: [], rows: Array.from({ length: 1001 }, () => []), truncated: false }],
    });
    expect(tooMany.status).toBe(400);
  }, 60_000);

  it('unpins the layer of a link once it expires, by the background sweep', async () => {
    const owner = newAccount();
    const { table, tail } = randomTail();
    const head = `SELECT * FROM ${table};`;
    expect(doneOf(await run(stack, owner, { tail, head }))).toMatchObject({ outcome: 'ok' });
    const created = (await call('POST', '/shares', owner, { tail, head })).json;
    // The TTL set its expiry (3600 s in this stack).
    const lifetimeMs = Date.parse(created.expiresAt) - Date.now();
    expect(lifetimeMs).toBeGreaterThan(3500_000);
    expect(lifetimeMs).toBeLessThanOrEqual(3600_000);
    const { key } = (await call('GET', `/shares/${created.id}`)).json;
    expect(await layer(key)).toMatchObject({ pinned: true });

    // Its time runs out (as if the TTL had passed): gone at once, and the sweep lets go of its pin.
    await stack.pool.query("UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = $1", [created.id]);
    expect((await call('GET', `/shares/${created.id}`)).status).toBe(404);
    await expect.poll(async () => (await layer(key))?.pinned, { timeout: 10_000 }).toBe(false);
    // The row is marked in the sweep's transaction, which commits after snapshot-cache let go.
    await expect.poll(async () => (await shareRow(created.id))?.pinned, { timeout: 10_000 }).toBe(false);
    expect((await call('GET', '/shares', owner)).json.shares).toEqual([]);
  }, 120_000);

  it('bounds what a stranger makes: links per anonymous account, links per minute, the size of the text', async () => {
    const owner = newAccount();
    const make = (n: number) => call('POST', '/shares', owner, { head: `SELECT ${n};` });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await make(n)).json.id);
    const over = await make(3);
    expect(over.status).toBe(429);
    expect(over.json.code).toBe('SQL_RUNNER_SHARE_LIMIT_EXCEEDED');
    // Refused before its tail costs the planner anything.
    const planned = await plannerJobs();
    const overWithTail = await call('POST', '/shares', owner, {
      tail: { sql: 'CREATE TABLE t (n int);' },
      head: 'SELECT 1;',
    });
    expect(overWithTail.json.code).toBe('SQL_RUNNER_SHARE_LIMIT_EXCEEDED');
    expect(await plannerJobs()).toBe(planned);
    for (const id of ids.slice(0, 2)) expect((await call('DELETE', `/shares/${id}`, owner)).status).toBe(204);
    expect((await make(4)).status).toBe(201);
    expect((await make(5)).status).toBe(201);
    // Five made in this minute: revoking does not give the rate back.
    const fast = await make(6);
    expect(fast.status).toBe(429);
    expect(fast.json.code).toBe('SQL_RUNNER_SHARE_RATE_EXCEEDED');
    expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const huge = await call('POST', '/shares', newAccount(), { head: 'x'.repeat(1024 * 1024 + 1) });
    expect(huge.status).toBe(400);
    // A tail with a syntax error is refused as a run's would be, before anything is kept.
    const bad = await call('POST', '/shares', newAccount(), { tail: { sql: 'SELEC 1;' }, head: 'SELECT 1;' });
    expect(bad.status).toBe(422);
    expect((await call('GET', '/shares', newAccount())).json).toEqual({ shares: [] });
  }, 60_000);
});
