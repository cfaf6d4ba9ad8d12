import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane, profile } from './accounts-helpers.js';
import { rowsOf, run, startRun, startTestStack, type TestStack } from './stack.js';

// Small, fast sandboxes for the suite (as runs.test.ts).
process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_WARM_POOL_EMPTY = '1';

describe('quotas and ownership through the whole platform', () => {
  let stack: TestStack;
  let a: { id: string; token: string };
  let b: { id: string; token: string };
  const sessionOfA = randomUUID();

  beforeAll(async () => {
    stack = await startTestStack();
    a = await accountWithToken(stack, 'learner');
    b = await accountWithToken(stack, 'learner');
    // Before their first run: sql-runner caches quotas for a few seconds.
    await profile(stack, 'PATCH', `/accounts/${a.id}`, { overrides: { runsPerMinute: 2 } });
    await profile(stack, 'PATCH', `/accounts/${b.id}`, { overrides: { instances: 1 } });
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('answers 429 problem+json with Retry-After once an account started runsPerMinute runs, before any stream', async () => {
    for (const n of [1, 2]) {
      const ok = await run(stack, a.token, { sessionId: sessionOfA, head: `SELECT ${n};` });
      expect(rowsOf(ok.events)).toEqual([[String(n)]]);
    }
    const response = await fetch(`${stack.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: sessionOfA, head: 'SELECT 3;' }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await response.json()).toMatchObject({
      code: 'SQL_RUNNER_RUN_RATE_EXCEEDED',
      status: 429,
      runsPerMinute: 2,
    });
    const runs = await controlPlane(stack, 'SELECT count(*)::int AS n FROM sql_runner.runs WHERE owner_id = $1', [
      a.id,
    ]);
    expect(runs).toEqual([{ n: 2 }]);
    // A refused first run of a new session leaves no session behind; the refused run's existing session stays.
    const fresh = randomUUID();
    const refused = await run(stack, a.token, { sessionId: fresh, head: 'SELECT 4;' });
    expect(refused.status).toBe(429);
    const sessions = await controlPlane(stack, 'SELECT id FROM sql_runner.sessions WHERE id = ANY($1::uuid[])', [
      [sessionOfA, fresh],
    ]);
    expect(sessions).toEqual([{ id: sessionOfA }]);
    const me = await api(stack, 'GET', '/api/me', a.token);
    expect(me.body.usage).toEqual({ instances: 1, runsLastMinute: 2 });
    expect(me.body.account.quotas.runsPerMinute).toBe(2);
  });

  it('keeps each account to its own instances: another account’s answers 404 and is left alone', async () => {
    const own = await api(stack, 'GET', '/api/instances', a.token);
    expect(own.status).toBe(200);
    expect(own.body).toHaveLength(1);
    const instanceOfA = own.body[0].id as string;
    expect(own.body[0]).toMatchObject({ state: 'Running', sessionId: sessionOfA });
    expect(own.body[0]).not.toHaveProperty('port');

    expect((await api(stack, 'GET', '/api/instances', b.token)).body).toEqual([]);
    for (const method of ['GET', 'DELETE'] as const) {
      const foreign = await api(stack, method, `/api/instances/${instanceOfA}`, b.token);
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe('GATEWAY_INSTANCE_NOT_FOUND');
    }
    const missing = await api(stack, 'DELETE', `/api/instances/${randomUUID()}`, b.token);
    expect(missing.body.code).toBe('GATEWAY_INSTANCE_NOT_FOUND');
    const state = () =>
      controlPlane(stack, 'SELECT state FROM env_manager.instances WHERE id = $1', [instanceOfA]).then(
        (r) => r[0]?.state,
      );
    expect(await state()).toBe('Running');
    const intruder = await run(stack, b.token, { sessionId: sessionOfA, head: 'SELECT 1;' });
    expect(intruder.problem?.code).toBe('SQL_RUNNER_SESSION_NOT_FOUND');

    const deleted = await api(stack, 'DELETE', `/api/instances/${instanceOfA}`, a.token);
    expect(deleted.status).toBe(200);
    expect(await state()).toBe('Deleted');
    expect((await api(stack, 'GET', '/api/instances', a.token)).body).toEqual([]);
  });

  it('refuses a new instance over the instances quota while runs use every one, then reclaims an idle one', async () => {
    const first = randomUUID();
    expect(rowsOf((await run(stack, b.token, { sessionId: first, head: 'SELECT 1;' })).events)).toEqual([['1']]);
    const [held] = (await api(stack, 'GET', '/api/instances', b.token)).body;

    const busy = await startRun(stack, b.token, { sessionId: first, head: 'SELECT pg_sleep(20);' });
    const started = await busy.next();
    expect(started).toMatchObject({ type: 'started' });
    const second = randomUUID();
    const refused = await run(stack, b.token, { sessionId: second, head: 'SELECT 2;' });
    expect(refused.status).toBe(429);
    expect(refused.problem).toMatchObject({ code: 'SQL_RUNNER_INSTANCE_QUOTA_EXCEEDED', instances: 1, held: 1 });
    expect((await api(stack, 'GET', '/api/instances', b.token)).body.map((i: { id: string }) => i.id)).toEqual([
      held.id,
    ]);

    const cancel = await fetch(`${stack.url}/api/runs/${started?.runId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(cancel.status).toBe(202);
    await busy.rest();
    const admitted = await run(stack, b.token, { sessionId: second, head: 'SELECT 2;' });
    expect(rowsOf(admitted.events)).toEqual([['2']]);
    const now = (await api(stack, 'GET', '/api/instances', b.token)).body;
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ sessionId: second, state: 'Running' });
    const [old] = await controlPlane(stack, 'SELECT state FROM env_manager.instances WHERE id = $1', [held.id]);
    expect(old?.state).toBe('Deleted');
    // The reclaimed session no longer counts in the quota's quick check; it still knows which instance it had.
    const gone = () =>
      controlPlane(stack, 'SELECT id, instance_id, instance_gone FROM sql_runner.sessions WHERE owner_id = $1', [b.id]);
    expect(await gone()).toEqual(
      expect.arrayContaining([
        { id: first, instance_id: held.id, instance_gone: true },
        { id: second, instance_id: now[0].id, instance_gone: false },
      ]),
    );
    // The reclaimed session carries on from an empty database (as after an idle TTL), reclaiming the other in turn.
    const back = await run(stack, b.token, { sessionId: first, head: 'SELECT 3;' });
    expect(rowsOf(back.events)).toEqual([['3']]);
    expect(back.events.find((e) => e.type === 'notice')?.message).toMatch(/previous instance is gone/);
    const after = (await api(stack, 'GET', '/api/instances', b.token)).body;
    expect(after.map((i: { sessionId: string }) => i.sessionId)).toEqual([first]);
    expect(await gone()).toEqual(
      expect.arrayContaining([
        { id: first, instance_id: after[0].id, instance_gone: false },
        { id: second, instance_id: now[0].id, instance_gone: true },
      ]),
    );
  });

  it('applies the quotas of a new role on the first run with its token, though the old ones are cached', async () => {
    // Anonymous accounts may start 2 runs a minute here; a learner keeps its default (120).
    await controlPlane(stack, `UPDATE user_profile.role_quotas SET runs_per_minute = 2 WHERE role = 'anonymous'`);
    try {
      const anonymous = await api(stack, 'POST', '/api/auth/anonymous', undefined);
      const token = anonymous.body.accessToken as string;
      const sessionId = randomUUID();
      for (const n of [1, 2])
        expect(rowsOf((await run(stack, token, { sessionId, head: `SELECT ${n};` })).events)).toEqual([[String(n)]]);
      const refused = await run(stack, token, { sessionId, head: 'SELECT 3;' });
      expect(refused.problem).toMatchObject({ code: 'SQL_RUNNER_RUN_RATE_EXCEEDED', runsPerMinute: 2 });
      const upgraded = await api(stack, 'POST', '/api/auth/upgrade', token, {
        email: `quota-${randomUUID()}@example.test`,
        password: 'a long enough password',
      });
      expect(upgraded.status).toBe(200);
      // Seconds after the refusal, well within the time sql-runner keeps an account's quotas.
      const learnerRun = await run(stack, upgraded.body.accessToken, { sessionId, head: 'SELECT 4;' });
      expect(rowsOf(learnerRun.events)).toEqual([['4']]);
      const me = await api(stack, 'GET', '/api/me', upgraded.body.accessToken);
      expect(me.body.account.quotas.runsPerMinute).toBe(120);
    } finally {
      await controlPlane(stack, `UPDATE user_profile.role_quotas SET runs_per_minute = 60 WHERE role = 'anonymous'`);
    }
  });
});
