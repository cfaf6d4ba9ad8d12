import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asAccount,
  type Event,
  lastOf,
  newAccount,
  type RunStack,
  run,
  startRun,
  startRunStack,
} from '../helpers/run-stack.js';

// POST /runs with a real env-manager and snapshot-cache: a run that cannot go on says in which phase it
// stopped, with the SQLSTATE of the step that failed, or with the platform's code and 58000.

describe('POST /runs: the phase and SQLSTATE of what stopped a run', () => {
  let stack: RunStack;

  const errorOf = (events: Event[]) => events.find((e) => e.type === 'error');
  const record = async (runId: string) =>
    (
      await stack.pool.query<{ outcome: string; error_sqlstate: string | null; steps_replayed: number }>(
        'SELECT outcome, error_sqlstate, steps_replayed FROM runs WHERE id = $1 AND finished_at IS NOT NULL',
        [runId],
      )
    ).rows[0];
  /** Events of a started run up to and including the first one `until` accepts. */
  const readUntil = async (stream: { next(): Promise<Event | undefined> }, until: (e: Event) => boolean) => {
    const seen: Event[] = [];
    for (let e = await stream.next(); e; e = await stream.next()) {
      seen.push(e);
      if (until(e)) break;
    }
    return seen;
  };

  beforeAll(async () => {
    // One plan at a time per account, and room for a plan that keeps its worker busy for seconds.
    stack = await startRunStack({
      planner: {
        PLAN_QUEUE_PER_ACCOUNT: 1,
        PLAN_TIMEOUT_MS: 4000,
        PLAN_MAX_STEPS: 1e9,
        PLAN_MAX_INCLUDES: 1e9,
        PLAN_MAX_CHARS: 1e12,
      },
    });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it("reports a tail step's own error in the replay phase, with its place, after the steps replayed before it", async () => {
    const table = `r_${randomUUID().slice(0, 8)}`;
    const tail = {
      files: [
        { path: 'init/01.sql', sql: `CREATE TABLE ${table} (n int);` },
        {
          path: 'seed/02.sql',
          sql: `INSERT INTO ${table} VALUES (1);\nINSERT INTO ${table}\n  SELECT n FROM nowhere;`,
        },
      ],
    };
    const events = await run(stack, newAccount(), { tail, head: 'SELECT 1;' });
    expect(errorOf(events)).toMatchObject({
      phase: 'replay',
      sqlstate: '42P01',
      statement: 2,
      path: 'seed/02.sql',
      line: 3,
      column: 17,
    });
    expect(errorOf(events)?.code).toBeUndefined();
    expect(lastOf(events)).toMatchObject({ type: 'done', outcome: 'error', stepsReplayed: 2, instanceKey: null });
    expect(await record(events[0]?.runId)).toEqual({ outcome: 'error', error_sqlstate: '42P01', steps_replayed: 2 });
  });

  it('reports an instance lost in the middle of the head in the execute phase, as a platform failure', async () => {
    const account = newAccount();
    const sessionId = randomUUID();
    const stream = await startRun(stack, account, {
      sessionId,
      head: 'SELECT pg_backend_pid();\nSELECT pg_sleep(20);',
    });
    const seen = await readUntil(stream, (e) => e.type === 'complete');
    const pid = Number(seen.find((e) => e.type === 'rows')?.rows[0]?.[0]);
    expect(pid).toBeGreaterThan(0);
    // The learner's backend dies under the statement (as the kernel's OOM killer would end it): no SQL error
    // comes back on its connection, which just ends.
    process.kill(pid, 'SIGKILL');
    const events = [...seen, ...(await stream.rest())];
    expect(errorOf(events)).toMatchObject({ phase: 'execute', code: 'INTERNAL', sqlstate: '58000' });
    expect(errorOf(events)?.message).toMatch(/lost the instance/);
    expect(await record(events[0]?.runId)).toMatchObject({ outcome: 'failed', error_sqlstate: '58000' });
  }, 60_000);

  it('cancels a run whose client left while it was being planned and admitted, before its stream started', async () => {
    const account = newAccount();
    // The request is sent whole and the connection closed at once: sql-runner is still planning it.
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${stack.sqlRunnerUrl}/runs`, { method: 'POST', headers: asAccount(account) });
      request.on('error', () => resolve()); // the connection this test closed
      request.on('response', () => reject(new Error('the answer came before the client left')));
      request.end(JSON.stringify({ head: 'SELECT pg_sleep(30);' }), () => {
        request.destroy();
        resolve();
      });
    });
    // Before: nobody noticed, and the run slept its 30 s on an instance, holding an open run and a slot.
    const deadline = Date.now() + 15_000;
    let outcome: string | undefined;
    while (Date.now() < deadline) {
      const { rows } = await stack.pool.query<{ outcome: string | null }>(
        'SELECT outcome FROM runs WHERE owner_id = $1',
        [account],
      );
      outcome = rows[0]?.outcome ?? undefined;
      if (outcome) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(outcome).toBe('cancelled');
  }, 30_000);

  it("reports a platform failure while restoring in the restore phase, with the platform's code and 58000", async () => {
    const tail = { sql: `CREATE TABLE g_${randomUUID().slice(0, 8)} (n int);` };
    // Built once: the runner knows its layer is cached, and asks env-manager for a clone without a lookup.
    expect(lastOf(await run(stack, newAccount(), { tail, head: 'SELECT 1;' }))).toMatchObject({ outcome: 'ok' });
    await stack.stopSnapshotCache();
    const events = await run(stack, newAccount(), { tail, head: 'SELECT 1;' });
    const error = errorOf(events);
    expect(error).toMatchObject({ phase: 'restore', sqlstate: '58000' });
    expect(error?.code).toMatch(/^ENV_MANAGER_/);
    expect(await record(events[0]?.runId)).toMatchObject({ outcome: 'failed', error_sqlstate: '58000' });
  }, 60_000);
});
