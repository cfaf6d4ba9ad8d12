import { monitorEventLoopDelay } from 'node:perf_hooks';
import { captureLogger } from '@taidon/kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { planChain, type SourceFile } from '../../src/domain/chain/index.js';
import { createPlanner, type PlannerConfig, type PlannerPool } from '../../src/planner/index.js';
import { fanOutBomb } from '../domain/chain/hostile.js';

// The workers run the built dist/ (npx tsc -b), as in production.

const options = { engineVersion: '18' };
const one = (sql: string): SourceFile[] => [{ path: 'a.sql', sql }];
/** ~10 s of parsing and ~1 GB of parse tree in one statement: what a budget must stop. */
const heavy = one(`SELECT 1${',1'.repeat(4_000_000)};`);

const pools: PlannerPool[] = [];
function pool(config: Partial<PlannerConfig> = {}): { planner: PlannerPool; logs: () => string[] } {
  const { logger, lines } = captureLogger('sql-runner');
  const planner = createPlanner(config, logger);
  pools.push(planner);
  return { planner, logs: lines };
}
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; statusCode: number; details: any }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; statusCode: number; details: any };
  }
  throw new Error('the plan did not fail');
}

describe('the planner pool', () => {
  it('plans exactly what planChain plans, and errors as planChain throws them', async () => {
    const { planner } = pool();
    const files = [
      { path: 'init/a.sql', sql: "\\set n 3\nCREATE TABLE t (a int);\n\\ir b.sql\nSELECT :n, :'n';" },
      { path: 'init/b.sql', sql: 'INSERT INTO t VALUES (1);\n\\echo hi', run: false },
    ];
    expect(await planner.plan(files, options)).toEqual(await planChain(files, options));
    const error = await refusal(planner.plan(one('selec 1;'), options));
    expect(error).toMatchObject({ code: 'SQL_RUNNER_SYNTAX_ERROR', statusCode: 422, details: { line: 1 } });
  });

  it('keeps the event loop free while a long plan runs', async () => {
    const { planner } = pool();
    await planner.plan(one('SELECT 1;'), options);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const chain = await planner.plan(one('SELECT 1;\n'.repeat(99_000)), options);
    const planMs = performance.now() - started;
    delay.disable();
    expect(chain.steps).toHaveLength(99_000);
    // The plan takes ~1.5 s of CPU; the loop never waited more than a fraction of it (the result's copy).
    expect(delay.max / 1e6).toBeLessThan(Math.max(250, planMs / 4));
  });

  it('stops a plan past its time budget, answers 422 timeMs, and replaces the worker', async () => {
    const { planner, logs } = pool({ PLAN_TIMEOUT_MS: 500, PLAN_WORKERS: 1 });
    await planner.plan(one('SELECT 1;'), options);
    const [before] = planner.threads();
    const started = performance.now();
    const error = await refusal(planner.plan(heavy, options));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({
      code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED',
      statusCode: 422,
      details: { limit: 'timeMs', max: 500, path: 'a.sql', line: 1, column: 1, sqlstate: '54000' },
    });
    expect((await planner.plan(one('SELECT 2;'), options)).steps).toHaveLength(1);
    expect(planner.threads()).toHaveLength(1);
    expect(planner.threads()[0]).not.toBe(before);
    expect(logs().join('\n')).toContain('its worker was stopped');
    expect(logs().join('\n')).not.toContain(',1,1');
  });

  it('lets a plan that needs more memory than its worker has kill the worker, not the process', async () => {
    const { planner } = pool({ PLAN_WORKER_MEMORY_MB: 64, PLAN_WORKERS: 1, PLAN_TIMEOUT_MS: 60_000 });
    const heap = process.memoryUsage().heapUsed;
    const error = await refusal(planner.plan(one(`SELECT 1${',1'.repeat(1_000_000)};`), options));
    expect(error).toMatchObject({ code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED', details: { limit: 'memoryMb', max: 64 } });
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(100 * 1024 * 1024);
    expect((await planner.plan(one('SELECT 3;'), options)).steps).toHaveLength(1);
  }, 60_000);

  it('refuses past a full queue with 503 and past an account’s share with 429, both with a retry delay', async () => {
    const { planner } = pool({ PLAN_WORKERS: 1, PLAN_QUEUE_MAX: 1, PLAN_QUEUE_PER_ACCOUNT: 2, PLAN_TIMEOUT_MS: 800 });
    await planner.plan(one('SELECT 1;'), options);
    const running = refusal(planner.plan(heavy, options, 'a'));
    const queued = planner.plan(one('SELECT 1;'), options, 'a');
    queued.catch(() => {}); // awaited below
    expect(await refusal(planner.plan(one('SELECT 1;'), options, 'a'))).toMatchObject({
      code: 'SQL_RUNNER_PLANNER_ACCOUNT_BUSY',
      statusCode: 429,
      details: { retryAfterSeconds: 1 },
    });
    expect(await refusal(planner.plan(one('SELECT 1;'), options, 'b'))).toMatchObject({
      code: 'SQL_RUNNER_PLANNER_BUSY',
      statusCode: 503,
      details: { retryAfterSeconds: 1 },
    });
    expect((await running).details.limit).toBe('timeMs');
    expect((await queued).steps).toHaveLength(1);
    // Both of a's slots are free again.
    expect((await planner.plan(one('SELECT 1;'), options, 'a')).steps).toHaveLength(1);
  });

  it('plans one job of an account at a time, so another account is served by the free worker', async () => {
    const { planner } = pool({ PLAN_WORKERS: 2, PLAN_TIMEOUT_MS: 1_500 });
    await Promise.all([planner.plan(one('SELECT 1;'), options, 'x'), planner.plan(one('SELECT 1;'), options, 'y')]);
    const order: string[] = [];
    const bombs = [1, 2].map((n) =>
      planner.plan(heavy, options, 'hostile').then(
        () => order.push(`bomb${n}`),
        () => order.push(`bomb${n}`),
      ),
    );
    const started = performance.now();
    await planner.plan(one('SELECT 1;'), options, 'learner');
    order.push('learner');
    const learnerMs = performance.now() - started;
    await Promise.all(bombs);
    expect(order).toEqual(['learner', 'bomb1', 'bomb2']);
    expect(learnerMs).toBeLessThan(1_000);
  });

  it('keeps a worker free for other learners while two accounts send slow plans back to back', async () => {
    const { planner } = pool({ PLAN_WORKERS: 2, PLAN_QUEUE_PER_ACCOUNT: 4 });
    await planner.plan(one('SELECT 1;'), options);
    // Seconds of the worker each before the `chars` limit stops them: raw variables lexed again, 4^12 characters.
    const slow = one(
      `\\set v12 x\n${Array.from({ length: 12 }, (_, i) => `\\set v${i} ':v${i + 1}:v${i + 1}:v${i + 1}:v${i + 1}'`).join('\n')}\nSELECT :v0;`,
    );
    const startedSlow = performance.now();
    const first = ['a', 'b'].map((owner) => refusal(planner.plan(slow, options, owner)));
    const more = ['a', 'a', 'b', 'b'].map((owner) => refusal(planner.plan(slow, options, owner)));
    for (const error of await Promise.all(first)) expect(error.details).toMatchObject({ limit: 'chars' });
    const slowMs = performance.now() - startedSlow;
    expect(slowMs).toBeGreaterThan(1_000); // they did take seconds: both accounts count as slow now
    // Without the slow lane both workers would now hold the next slow plans and the learner would wait for one.
    const started = performance.now();
    await planner.plan(one('SELECT 1;'), options, 'learner');
    const learnerMs = performance.now() - started;
    await Promise.all(more);
    expect(learnerMs).toBeLessThan(Math.min(1_000, slowMs / 2));
  }, 120_000);

  it('refuses a plan past the characters all waiting plans may hold with 503', async () => {
    const { planner } = pool({ PLAN_WORKERS: 1, PLAN_QUEUE_MAX_CHARS: 1024 * 1024 });
    const big = one(`SELECT 1;${' '.repeat(700 * 1024)}`);
    // An idle pool takes a plan of any size; a second one would hold more than the bound.
    const running = planner.plan(big, options, 'a');
    const error = await refusal(planner.plan(big, options, 'b'));
    expect(error).toMatchObject({ code: 'SQL_RUNNER_PLANNER_BUSY', statusCode: 503 });
    await running;
    // Settled plans give their characters back.
    await planner.plan(big, options, 'b');
  });

  it('stops the include bomb at its limit in well under a second of the worker', async () => {
    const { planner } = pool();
    await planner.plan(one('SELECT 1;'), options);
    const started = performance.now();
    const error = await refusal(planner.plan(fanOutBomb(7, 10), options));
    expect(error.details).toMatchObject({ limit: 'includes', max: 10_000 });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('fails waiting plans when closed', async () => {
    const { planner } = pool({ PLAN_WORKERS: 1, PLAN_TIMEOUT_MS: 5_000 });
    const running = refusal(planner.plan(heavy, options));
    const waiting = refusal(planner.plan(one('SELECT 1;'), options));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await planner.close();
    expect((await waiting).code).toBe('UNAVAILABLE');
    expect((await running).code).toBe('UNAVAILABLE');
    expect(planner.threads()).toEqual([]);
    expect((await refusal(planner.plan(one('SELECT 1;'), options))).code).toBe('UNAVAILABLE');
  });
});
