import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asAccount,
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  SERVICE_TOKEN,
  startRunStack,
} from '../helpers/run-stack.js';

// What a run asks of the planner's workers, read from taidon_planner_jobs_total: the head is checked before
// anything starts, and a run that starts where the check assumed (a first run, a reset) runs that plan
// instead of asking for it again. At a class's arrival first runs are what filled the planner's queue: the
// same text from every learner is now one job (the cache of plans, ADR 0043).

describe('POST /runs: plans asked of the planner per run', () => {
  let stack: RunStack;
  const queued = async () => {
    const answer = await fetch(`${stack.sqlRunnerUrl}/metrics`, { headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN } });
    const text = await answer.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('taidon_planner_jobs_total{') && l.includes('outcome="queued"'));
    if (!text.includes('# TYPE taidon_planner_jobs_total counter')) throw new Error('no planner jobs in /metrics');
    return line === undefined ? 0 : Number(line.split(' ').at(-1)); // no line before the first plan
  };
  /** The planner jobs `body`'s run asked for, and its events. */
  const jobsOf = async (account: string, body: Record<string, unknown>) => {
    const before = await queued();
    const events = await run(stack, account, body);
    return { jobs: (await queued()) - before, events };
  };

  beforeAll(async () => {
    stack = await startRunStack();
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it('plans the tail and the head once each: a first run, a head alone on a moved session, a reset', async () => {
    const account = newAccount();
    const sessionId = randomUUID();
    const table = `p_${randomUUID().slice(0, 8)}`;
    const tail = { sql: `CREATE TABLE ${table} (n int);\nINSERT INTO ${table} VALUES (1);\n` };

    const first = await jobsOf(account, { sessionId, tail, head: `INSERT INTO ${table} VALUES (2);` });
    expect(lastOf(first.events)).toMatchObject({ outcome: 'ok' });
    expect(first.jobs).toBe(2);

    // A head alone on the session: checked from the empty state, then its keys moved onto the session's.
    const repl = await jobsOf(account, { sessionId, head: `SELECT count(*) FROM ${table};` });
    expect(rowsOf(repl.events)).toEqual([['2']]);
    expect(repl.jobs).toBe(1);
    // The keys moved there are those of the whole chain planned at once: tail, first head, this head.
    const whole = await fetch(`${stack.sqlRunnerUrl}/plan`, {
      method: 'POST',
      headers: asAccount(newAccount()),
      body: JSON.stringify({ sql: `${tail.sql}INSERT INTO ${table} VALUES (2);\nSELECT count(*) FROM ${table};` }),
    });
    const { rows } = await stack.pool.query<{ current_key: string }>('SELECT current_key FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    expect(rows[0]?.current_key).toBe(((await whole.json()) as { finalKey: string }).finalKey);

    // The reset sends the tail and a head already planned: both are kept plans, no job (ADR 0043).
    const reset = await jobsOf(account, { sessionId, tail, head: `SELECT count(*) FROM ${table};` });
    expect(rowsOf(reset.events)).toEqual([['1']]);
    expect(reset.jobs).toBe(0);
  });

  it("plans a class's first runs (the same tail and head from every learner, sent at once) as one job each", async () => {
    const table = `c_${randomUUID().slice(0, 8)}`;
    const tail = { sql: `CREATE TABLE ${table} (n int);\nINSERT INTO ${table} SELECT generate_series(1, 10);\n` };
    const head = `SELECT sum(n) FROM ${table};`;
    const before = await queued();
    const learners = Array.from({ length: 6 }, () => newAccount());
    const runs = await Promise.all(learners.map((account) => run(stack, account, { tail, head })));
    for (const events of runs) expect(rowsOf(events)).toEqual([['55']]);
    // Without the cache each learner's run asked for both: 12 jobs.
    expect((await queued()) - before).toBe(2);
  }, 120_000);
});
