import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlane } from './accounts-helpers.js';
import { post } from './platform.js';
import { type Event, rowsOf, run, startRun, startTestStack, type TestStack } from './stack.js';

// Small, fast sandboxes for the suite: a 2 GiB sparse btrfs image, a short wall-clock guard.
process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_STATEMENT_TIMEOUT_MS = '3000';
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_WARM_POOL_EMPTY = '1';

const SEED = {
  files: [
    { path: 'init/01_schema.sql', sql: 'CREATE TABLE items (id int PRIMARY KEY, label text, price numeric(10,2));' },
    {
      path: 'seed/01_rows.sql',
      sql: "INSERT INTO items SELECT g, 'item ' || g, g * 1.25 FROM generate_series(1, 5000) g;\nCREATE TABLE luck AS SELECT random() AS x;",
    },
  ],
};
const last = (events: Event[]) => events.at(-1) as Event;

/** What the runner's learner connection to the instance on `port` is doing, seen from a connection of our own. */
async function learnerActivity(port: number): Promise<{ state: string; query: string } | undefined> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'sandbox' });
  await client.connect();
  try {
    const { rows } = await client.query<{ state: string; query: string }>(
      "SELECT state, query FROM pg_stat_activity WHERE application_name = 'taidon-learner' AND pid <> pg_backend_pid()",
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

/** Events of a started run up to and including its first `rows` event. */
async function untilFirstRows(stream: { next(): Promise<Event | undefined> }): Promise<Event[]> {
  const seen: Event[] = [];
  for (let e = await stream.next(); e; e = await stream.next()) {
    seen.push(e);
    if (e.type === 'rows') break;
  }
  return seen;
}

describe('POST /api/runs through the whole platform', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.signIn();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('builds a state once, then serves it from its layer to another learner without replaying', async () => {
    const head = 'SELECT count(*), sum(price) FROM items;\nSELECT x FROM luck;';
    const first = await run(stack, token, { tail: SEED, head });
    expect(first.status).toBe(200);
    expect(first.events[0]).toMatchObject({ type: 'started' });
    expect(rowsOf(first.events, 0)).toEqual([['5000', '15628125.00']]);
    expect(last(first.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 3 });
    expect(first.events.filter((e) => e.type === 'progress' && e.phase === 'replay').map((e) => e.step)).toEqual([
      1, 2, 3,
    ]);

    const other = await stack.signIn();
    const second = await run(stack, other, { tail: SEED, head });
    const done = last(second.events);
    expect(done).toMatchObject({ type: 'done', outcome: 'ok', source: 'clone', stepsReplayed: 0 });
    expect(done.layerKey).toMatch(/^[0-9a-f]{64}$/);
    expect(rowsOf(second.events, 0)).toEqual([['5000', '15628125.00']]);
    // A cache hit never re-executes the tail: the volatile value is the first build's.
    expect(rowsOf(second.events, 1)).toEqual(rowsOf(first.events, 1));
  });

  it("resets an anonymous learner's session on the same instance, from its template database (ADR 0029)", async () => {
    // An anonymous account may hold one instance: the reset must not be admitted as a run that needs a new one,
    // which reclaimed (deleted) the very instance the reset is served on.
    const learner = await stack.signIn();
    const first = await run(stack, learner, { tail: SEED, head: 'SELECT 1' });
    expect(last(first.events)).toMatchObject({ outcome: 'ok', stepsReplayed: 0 });
    const sessionId = first.events[0]?.sessionId as string;
    const instanceOf = async () =>
      (
        await controlPlane<{ instance_id: string }>(
          stack,
          'SELECT instance_id FROM sql_runner.sessions WHERE id = $1',
          [sessionId],
        )
      )[0]?.instance_id;
    const instance = await instanceOf();
    for (let i = 0; i < 2; i++) {
      const changed = await run(stack, learner, { sessionId, head: 'DELETE FROM items WHERE id <= 10;' });
      expect(last(changed.events)).toMatchObject({ outcome: 'ok', source: 'session' });
      const reset = await run(stack, learner, { sessionId, tail: SEED, head: 'SELECT count(*) FROM items;' });
      expect(last(reset.events)).toMatchObject({ outcome: 'ok', source: 'template-reset', stepsReplayed: 0 });
      expect(rowsOf(reset.events)).toEqual([['5000']]);
      expect(await instanceOf()).toBe(instance);
    }
  });

  it('rebuilds a state whose layer was evicted after the runner saw it cached', async () => {
    const tail = { sql: `CREATE TABLE gone_${randomUUID().slice(0, 8)} AS SELECT 42 AS answer;` };
    const head = 'SELECT 1';
    const first = await run(stack, token, { tail, head });
    expect(last(first.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 1 });
    const { finalKey } = (await post(`${stack.url}/api/plan`, tail, { authorization: `Bearer ${token}` })).body;
    // The first run's instance is a clone of K0, so nothing holds the new layer: it can go.
    const evicted = await fetch(`${stack.services.snapshotCacheUrl}/layers/${finalKey}`, {
      method: 'DELETE',
      headers: { 'x-taidon-service-token': stack.serviceToken },
    });
    expect(evicted.status).toBe(204);
    const second = await run(stack, await stack.signIn(), { tail, head });
    expect(last(second.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 1 });
  });

  it('explains in /api/plan which states are cached and where a run would start', async () => {
    const extended = {
      files: [...SEED.files, { path: 'seed/02_more.sql', sql: 'UPDATE items SET price = price * 2;' }],
    };
    const plan = await post(`${stack.url}/api/plan`, extended, { authorization: `Bearer ${token}` });
    expect(plan.status).toBe(200);
    // Layers were taken at the end of each script of the first run's tail.
    expect(plan.body.steps.map((s: { cached: boolean }) => s.cached)).toEqual([true, false, true, false]);
    expect(plan.body.startsFrom).toEqual({ key: plan.body.steps[2].key, afterStep: 2, replaySteps: 1 });
  });

  it('continues REPL style on the session instance and keeps an open transaction between runs', async () => {
    const sessionId = randomUUID();
    const a = await run(stack, token, {
      sessionId,
      head: 'CREATE TABLE notes (n int);\nINSERT INTO notes VALUES (1);',
    });
    expect(last(a.events)).toMatchObject({ type: 'done', outcome: 'ok' });
    const b = await run(stack, token, { sessionId, head: 'BEGIN;\nINSERT INTO notes VALUES (2);' });
    expect(last(b.events)).toMatchObject({ type: 'done', outcome: 'ok', source: 'session' });
    const c = await run(stack, token, { sessionId, head: 'SELECT count(*) FROM notes;' });
    expect(rowsOf(c.events)).toEqual([['2']]);
    const d = await run(stack, token, { sessionId, head: 'ROLLBACK;\nSELECT count(*) FROM notes;' });
    expect(rowsOf(d.events, 1)).toEqual([['1']]);
    expect(last(d.events)).toMatchObject({ source: 'session', stepsReplayed: 0 });
    // env-manager hears of the instance's use and new key from the runner's next batch, within ~100 ms.
    const keyOfD: string = last(d.events).instanceKey;
    const instanceOf = async () =>
      (
        await controlPlane<{ current_key: string; last_used_at: Date }>(
          stack,
          `SELECT i.current_key, i.last_used_at FROM env_manager.instances i
             JOIN sql_runner.sessions s ON s.instance_id = i.id WHERE s.id = $1`,
          [sessionId],
        )
      )[0];
    const deadline = Date.now() + 5000;
    let seen = await instanceOf();
    while (seen?.current_key !== keyOfD && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await instanceOf();
    }
    expect(keyOfD).toMatch(/^[0-9a-f]{64}$/);
    expect(seen?.current_key).toBe(keyOfD);
    // An error inside a transaction block leaves it aborted; the next head still continues there and can roll back.
    const e = await run(stack, token, { sessionId, head: 'BEGIN;\nSELECT 1/0;' });
    expect(e.events.find((ev) => ev.type === 'error')).toMatchObject({ sqlstate: '22012' });
    expect(last(e.events)).toMatchObject({ outcome: 'error', instanceKey: null });
    const f = await run(stack, token, { sessionId, head: 'ROLLBACK;\nSELECT count(*) FROM notes;' });
    expect(rowsOf(f.events, 1)).toEqual([['1']]);
    expect(last(f.events)).toMatchObject({ source: 'session', instanceKey: null });
    // Runs that leave the key unknown still mark the instance used, and keep the key it had.
    await new Promise((r) => setTimeout(r, 300));
    const after = await instanceOf();
    expect(after?.current_key).toBe(keyOfD);
    expect(after?.last_used_at.getTime()).toBeGreaterThan(seen?.last_used_at.getTime() ?? Number.POSITIVE_INFINITY);
    // Each run's record is finished, with its outcome, SQLSTATE and timings, in the statement that saved the session.
    const records = await controlPlane<{ outcome: string; error_sqlstate: string | null; total: number }>(
      stack,
      `SELECT outcome, error_sqlstate, (timings->>'totalMs')::int AS total FROM sql_runner.runs
        WHERE session_id = $1 AND finished_at IS NOT NULL ORDER BY started_at`,
      [sessionId],
    );
    expect(records.map((r) => [r.outcome, r.error_sqlstate])).toEqual([
      ['ok', null],
      ['ok', null],
      ['ok', null],
      ['ok', null],
      ['error', '22012'],
      ['ok', null],
    ]);
    expect(records.every((r) => r.total >= 0)).toBe(true);
  });

  it("answers 404 for another account's session, before anything runs", async () => {
    const sessionId = randomUUID();
    await run(stack, token, { sessionId, head: 'SELECT 1;' });
    const intruder = await run(stack, await stack.signIn(), { sessionId, head: 'SELECT 1;' });
    expect(intruder.status).toBe(404);
    expect(intruder.problem).toMatchObject({ code: 'SQL_RUNNER_SESSION_NOT_FOUND' });
  });

  it('builds a missing state once when two learners need it at the same time', async () => {
    const tail = {
      sql: `CREATE TABLE once_${Date.now()} AS SELECT g FROM generate_series(1, 200000) g;\nSELECT pg_sleep(0.3);`,
    };
    const [x, y] = await Promise.all([
      run(stack, token, { tail, head: 'SELECT 1;' }),
      run(stack, await stack.signIn(), { tail, head: 'SELECT 1;' }),
    ]);
    const replayed = [last(x.events).stepsReplayed, last(y.events).stepsReplayed].sort();
    expect(replayed).toEqual([0, 2]);
  });

  it('reports a runtime error with SQLSTATE and its line and column in the head', async () => {
    const result = await run(stack, token, { tail: SEED, head: 'SELECT 1;\nSELECT *\n  FROM nowhere;' });
    const error = result.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({
      phase: 'execute',
      statement: 1,
      sqlstate: '42P01',
      line: 3,
      column: 8,
      path: 'head.sql',
    });
    expect(last(result.events)).toMatchObject({ type: 'done', outcome: 'error' });
  });

  it('answers a syntax error with 422 before any instance is touched, and keeps no session for it', async () => {
    const sessionId = randomUUID();
    const result = await run(stack, token, { sessionId, tail: SEED, head: 'SELECT 1;\nSELEC 2;' });
    expect(result.status).toBe(422);
    expect(await controlPlane(stack, 'SELECT id FROM sql_runner.sessions WHERE id = $1', [sessionId])).toEqual([]);
    expect(result.problem).toMatchObject({
      code: 'SQL_RUNNER_SYNTAX_ERROR',
      sqlstate: '42601',
      line: 2,
      column: 1,
      path: 'head.sql',
    });
  });

  it('cancels a running statement on request, and only for its owner', async () => {
    const sessionId = randomUUID();
    const stream = await startRun(stack, token, { sessionId, head: 'SELECT pg_sleep(30);' });
    const started = await stream.next();
    expect(started).toMatchObject({ type: 'started' });
    for (let e = await stream.next(); e && e.type !== 'progress'; e = await stream.next());
    await new Promise((r) => setTimeout(r, 200));
    const stranger = await post(
      `${stack.url}/api/runs/${started?.runId}/cancel`,
      {},
      { authorization: `Bearer ${await stack.signIn()}` },
    );
    expect(stranger.status).toBe(404);
    const began = Date.now();
    const cancel = await post(
      `${stack.url}/api/runs/${started?.runId}/cancel`,
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(cancel.status).toBe(202);
    const rest = await stream.rest();
    expect(rest.at(-1)).toEqual({ type: 'cancelled', reason: 'request' });
    expect(Date.now() - began).toBeLessThan(3000);
    const after = await run(stack, token, { sessionId, head: 'SELECT 42;' });
    expect(rowsOf(after.events)).toEqual([['42']]);
    const [record] = await controlPlane<{ outcome: string }>(
      stack,
      'SELECT outcome FROM sql_runner.runs WHERE id = $1',
      [started?.runId],
    );
    expect(record?.outcome).toBe('cancelled');
  });

  it('bounds a statement by wall clock even when the learner turns statement_timeout off', async () => {
    const began = Date.now();
    const result = await run(stack, token, { head: 'SET statement_timeout = 0;\nSELECT pg_sleep(60);' });
    expect(last(result.events)).toEqual({ type: 'cancelled', reason: 'timeout' });
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it('counts runs, restores by cache result and head time in sql-runner /metrics', async () => {
    const text = await (await fetch(`${stack.services.sqlRunnerUrl}/metrics`)).text();
    expect(text).toMatch(/taidon_runs_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(text).toMatch(/taidon_runs_total\{[^}]*outcome="cancelled"[^}]*\} [1-9]/);
    expect(text).toMatch(/taidon_cache_lookups_total\{[^}]*result="hit"[^}]*\} [1-9]/);
    // The first build's restore: "miss" if it came before the empty state's layer (the warm pool of the empty
    // state makes it at start), "partial" after; which one is a race with the platform's start.
    expect(text).toMatch(/taidon_cache_lookups_total\{[^}]*result="(miss|partial)"[^}]*\} [1-9]/);
    expect(text).toMatch(/taidon_run_state_ready_seconds_count\{[^}]*source="clone"[^}]*\} [1-9]/);
    expect(text).toMatch(/taidon_run_head_seconds_count\{[^}]*\} [1-9]/);
  });

  it('ends an endless recursive query within the limits while another learner keeps being answered', async () => {
    // The other learner already has an instance: what is measured is isolation, not start-up time.
    const other = await stack.signIn();
    const otherSession = randomUUID();
    await run(stack, other, { sessionId: otherSession, head: 'SELECT 0;' });
    const began = Date.now();
    let endlessDone = false;
    const endless = run(stack, token, {
      head: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r;',
    }).finally(() => {
      endlessDone = true;
    });
    await new Promise((r) => setTimeout(r, 500));
    const quick = Date.now();
    const answer = await run(stack, other, { sessionId: otherSession, head: 'SELECT 1;' });
    expect(rowsOf(answer.events)).toEqual([['1']]);
    expect(endlessDone).toBe(false);
    expect(Date.now() - quick).toBeLessThan(2000);
    const result = await endless;
    const end = last(result.events);
    // Either the wall-clock guard cancelled it or temp_file_limit stopped it first.
    expect(end.type === 'cancelled' ? end.reason : result.events.find((e) => e.type === 'error')?.sqlstate).toMatch(
      /timeout|53400/,
    );
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it('stops a learner who fills the disk at their own cap, and the platform keeps answering', async () => {
    const sessionId = randomUUID();
    const result = await run(stack, token, {
      sessionId,
      head: 'CREATE TABLE fill AS SELECT repeat(md5(g::text), 40) AS x FROM generate_series(1, 2000000) g;',
    });
    const error = result.events.find((e) => e.type === 'error');
    // The runner cancels a statement that grows the database past its cap (53100, like a full disk), with the statement's place.
    expect(error).toMatchObject({ sqlstate: '53100', phase: 'execute', line: 1, column: 1 });
    expect(error?.message).toMatch(/disk quota of 96 MB/);
    const after = await run(stack, token, { sessionId, head: 'SELECT 2;' });
    expect(rowsOf(after.events)).toEqual([['2']]);
    const other = await run(stack, await stack.signIn(), { tail: SEED, head: 'SELECT count(*) FROM items;' });
    expect(rowsOf(other.events)).toEqual([['5000']]);
  });

  it('stops a learner who fills the disk with many short statements, across statements and runs', async () => {
    // Each INSERT writes ~6 MB in well under the guard's first look (100 ms): only the time they add up to counts.
    const insert = 'INSERT INTO fill SELECT repeat(md5(g::text), 40) FROM generate_series(1, 5000) g;';
    // Its own account: the earlier tests' runs and up to 40 here must not meet the anonymous 60 runs a minute.
    const token = await stack.signIn();
    const size = async (sessionId: string) => {
      const answer = await run(stack, token, { sessionId, head: 'SELECT pg_database_size(current_database());' });
      expect(answer.problem).toBeUndefined();
      expect(answer.events.find((e) => e.type === 'error')).toBeUndefined();
      return Number(rowsOf(answer.events)[0]?.[0]);
    };
    const refusal = (events: Event[]) => events.find((e) => e.type === 'error');
    // Many statements in one run.
    const many = randomUUID();
    const first = await run(stack, token, {
      sessionId: many,
      head: `CREATE TABLE fill (x text);\n${Array.from({ length: 30 }, () => insert).join('\n')}`,
    });
    expect(refusal(first.events)).toMatchObject({ sqlstate: '53100', phase: 'execute' });
    expect(refusal(first.events)?.message).toMatch(/disk quota of 96 MB/);
    expect(refusal(first.events)?.line).toBeGreaterThan(2);
    // Past the cap, the next statement that writes is refused as it starts, in a new run too.
    expect(refusal((await run(stack, token, { sessionId: many, head: insert })).events)).toMatchObject({
      sqlstate: '53100',
    });
    // Past the cap by at most what the statements of ~100 ms of execution and one look write.
    expect(await size(many)).toBeLessThan(160 * 1024 ** 2);
    // Space can still be freed, and then writes are accepted again.
    expect(refusal((await run(stack, token, { sessionId: many, head: 'DROP TABLE fill;' })).events)).toBeUndefined();
    const again = await run(stack, token, { sessionId: many, head: `CREATE TABLE fill (x text);\n${insert}` });
    expect(refusal(again.events)).toBeUndefined();

    // One short statement per run: the time still adds up, in the session, across runs.
    const runs = randomUUID();
    await run(stack, token, { sessionId: runs, head: 'CREATE TABLE fill (x text);' });
    let refused: Event | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      refused = refusal((await run(stack, token, { sessionId: runs, head: insert })).events);
    }
    expect(refused).toMatchObject({ sqlstate: '53100' });
    expect(await size(runs)).toBeLessThan(160 * 1024 ** 2);
  });

  /** A new session with a running instance, and the port that instance listens on. */
  async function sessionWithInstance(): Promise<{ sessionId: string; port: number }> {
    const sessionId = randomUUID();
    expect(rowsOf((await run(stack, token, { sessionId, head: 'SELECT 1;' })).events)).toEqual([['1']]);
    const [instance] = await controlPlane<{ port: number }>(
      stack,
      `SELECT port FROM env_manager.instances WHERE session_id = $1 AND state = 'Running'`,
      [sessionId],
    );
    if (!instance) throw new Error(`session ${sessionId} has no running instance`);
    return { sessionId, port: instance.port };
  }

  it('holds a run back while its client does not read, then delivers every row once it does', async () => {
    const { sessionId, port } = await sessionWithInstance();
    // 20 statements of ~5 MB each: far more than the sockets and streams between the runner and us hold.
    const statements = Array.from(
      { length: 20 },
      (_, i) => `SELECT ${i + 1} AS s, repeat('x', 1000) AS x FROM generate_series(1, 5000);`,
    );
    const stream = await startRun(stack, token, { sessionId, head: statements.join('\n') });
    const seen = await untilFirstRows(stream);
    // Which statement the learner's backend is at.
    const current = async () => Number(/SELECT (\d+) AS s/.exec((await learnerActivity(port))?.query ?? '')?.[1]);
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = await current();
    expect(stalled).toBeLessThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await current()).toBe(stalled);
    const events = [...seen, ...(await stream.rest())];
    const rows = new Map<number, number>();
    for (const e of events) if (e.type === 'rows') rows.set(e.statement, (rows.get(e.statement) ?? 0) + e.rows.length);
    expect([...rows.values()]).toEqual(Array(20).fill(5000));
    // Each statement's own count, as psql would print it, not that of its last chunk.
    expect(events.filter((e) => e.type === 'complete').map((e) => e.rowCount)).toEqual(Array(20).fill(5000));
    expect(events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });
  });

  it('ends a run whose client stopped reading when its statement time is up', async () => {
    const { sessionId, port } = await sessionWithInstance();
    const head = Array.from({ length: 20 }, () => "SELECT repeat('x', 1000) FROM generate_series(1, 5000);").join('\n');
    const stream = await startRun(stack, token, { sessionId, head });
    const seen = await untilFirstRows(stream);
    // Past RUN_STATEMENT_TIMEOUT_MS (3 s) without reading: the runner gives up on its own.
    await new Promise((r) => setTimeout(r, 4500));
    expect((await learnerActivity(port))?.state).toBe('idle');
    const events = [...seen, ...(await stream.rest())];
    expect(events.at(-1)).toMatchObject({ type: 'cancelled', reason: 'timeout' });
    expect(rowsOf((await run(stack, token, { sessionId, head: 'SELECT 5;' })).events)).toEqual([['5']]);
  });

  it("passes the server's notices on, with their statement, at most 100 of one statement, long messages cut", async () => {
    const result = await run(stack, token, {
      head: [
        "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$;",
        'DROP TABLE IF EXISTS nothing_here;',
        "DO $$ BEGIN FOR i IN 1..500 LOOP RAISE NOTICE 'n%', i; END LOOP; RAISE WARNING 'last'; END $$;",
        'SELECT 1;',
        "DO $$ BEGIN RAISE NOTICE '%', repeat('x', 10000000); END $$;",
        "DO $$ BEGIN RAISE EXCEPTION '%', repeat('y', 10000000); END $$;",
      ].join('\n'),
    });
    const notices = result.events.filter((e) => e.type === 'notice');
    expect(notices[0]).toEqual({
      type: 'notice',
      severity: 'NOTICE',
      message: 'hello 42',
      sqlstate: '00000',
      statement: 0,
    });
    expect(notices[1]).toMatchObject({
      severity: 'NOTICE',
      message: 'table "nothing_here" does not exist, skipping',
      statement: 1,
    });
    const third = notices.filter((n) => n.statement === 2);
    expect(third).toHaveLength(101);
    expect(third[99]).toMatchObject({ message: 'n100' });
    expect(third[100]?.message).toMatch(/further notices of this statement are not shown/);
    expect(rowsOf(result.events, 3)).toEqual([['1']]);
    // A 10 MB message reaches the learner cut at 8192 characters, saying how much was left out.
    const huge = notices.find((n) => n.statement === 4);
    expect(huge?.message).toBe(`${'x'.repeat(8192)}… (${10_000_000 - 8192} more characters)`);
    const error = result.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ sqlstate: 'P0001', statement: 5 });
    expect(error?.message).toBe(`${'y'.repeat(8192)}… (${10_000_000 - 8192} more characters)`);
    expect(result.events.at(-1)).toMatchObject({ type: 'done', outcome: 'error' });
  });

  it('cancels the statement when the client closes the stream', async () => {
    const sessionId = randomUUID();
    const abort = new AbortController();
    const stream = await startRun(stack, token, { sessionId, head: 'SELECT pg_sleep(30);' }, abort.signal);
    for (let e = await stream.next(); e && e.type !== 'progress'; e = await stream.next());
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    const began = Date.now();
    const after = await run(stack, token, { sessionId, head: 'SELECT 7;' });
    expect(rowsOf(after.events)).toEqual([['7']]);
    expect(Date.now() - began).toBeLessThan(5000);
  });
});
