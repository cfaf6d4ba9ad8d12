import { captureLogger } from '@taidon/kit/testing';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { planChain, type SourceFile } from '../../src/domain/chain/index.js';
import { cachePlans, createPlanner, type PlannerConfig, type PlannerPool } from '../../src/planner/index.js';

// The cache of plans in front of a real planner pool (the workers run the built dist/, npx tsc -b). What it
// saves is read where an operator reads it: the pool's job counter and the cache's lookup counter.

const options = { engineVersion: '18' };
const one = (sql: string, path = 'a.sql'): SourceFile[] => [{ path, sql }];
const TAIL = `CREATE TABLE books (id int PRIMARY KEY, title text NOT NULL);
INSERT INTO books SELECT g, 'book ' || g FROM generate_series(1, 100) g;
`;

const pools: PlannerPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

function cached(config: Partial<PlannerConfig> = {}) {
  const registry = new Registry();
  const jobs = new Counter({ name: 'jobs', help: 'jobs', labelNames: ['outcome'], registers: [registry] });
  const lookups = new Counter({ name: 'lookups', help: 'lookups', labelNames: ['result'], registers: [registry] });
  const pool = createPlanner(config, captureLogger('sql-runner').logger, jobs);
  pools.push(pool);
  const planner = cachePlans(pool, config, lookups);
  const count = async (counter: Counter<string>, label: string, value: string) =>
    (await counter.get()).values.find((v) => v.labels[label] === value)?.value ?? 0;
  return {
    planner,
    queued: () => count(jobs, 'outcome', 'queued'),
    lookups: async () => ({
      hit: await count(lookups, 'result', 'hit'),
      miss: await count(lookups, 'result', 'miss'),
      shared: await count(lookups, 'result', 'shared'),
      skipped: await count(lookups, 'result', 'skipped'),
    }),
  };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; statusCode: number; details: any }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; statusCode: number; details: any };
  }
  throw new Error('the plan did not fail');
}

describe('the cache of plans', () => {
  it('plans 20 identical texts from 20 accounts, sent at once, as one job of the pool', async () => {
    const { planner, queued, lookups } = cached();
    const accounts = Array.from({ length: 20 }, (_, i) => `account-${i}`);
    const chains = await Promise.all(accounts.map((account) => planner.plan(one(TAIL), options, account)));
    const expected = await planChain(one(TAIL), options);
    for (const chain of chains) expect(chain).toEqual(expected);
    expect(await queued()).toBe(1);
    expect(await lookups()).toEqual({ hit: 0, miss: 1, shared: 19, skipped: 0 });

    // Later senders get the kept plan; the pool is not asked again.
    expect(await planner.plan(one(TAIL), options, 'account-late')).toEqual(expected);
    expect(await queued()).toBe(1);
    expect((await lookups()).hit).toBe(1);
  });

  it('asks the pool for each text every time when PLAN_CACHE_ENTRIES is 0', async () => {
    const { planner, queued } = cached({ PLAN_CACHE_ENTRIES: 0 });
    await Promise.all(['a', 'b', 'c'].map((account) => planner.plan(one(TAIL), options, account)));
    await planner.plan(one(TAIL), options, 'd');
    expect(await queued()).toBe(4);
  });

  it('keys on everything a plan depends on: text, path, run flag, engine, settings, start key', async () => {
    const { planner, queued } = cached();
    const variants: [SourceFile[], typeof options & Record<string, unknown>][] = [
      [one('SELECT 1;'), options],
      [one('SELECT 2;'), options],
      [one('SELECT 1;', 'b.sql'), options],
      [[{ path: 'main.sql', sql: '\\ir a.sql' }, ...one('SELECT 1;')], options],
      [
        [
          { path: 'main.sql', sql: '\\ir a.sql' },
          { path: 'a.sql', sql: 'SELECT 1;', run: false },
        ],
        options,
      ],
      [one('SELECT 1;'), { engineVersion: '17' }],
      [one('SELECT 1;'), { ...options, settings: { TimeZone: 'UTC' } }],
      [one('SELECT 1;'), { ...options, startKey: 'a'.repeat(64) }],
    ];
    const chains = [];
    for (const [files, opts] of variants) chains.push(await planner.plan(files, opts));
    expect(await queued()).toBe(variants.length);
    for (const [i, [files, opts]] of variants.entries()) expect(chains[i]).toEqual(await planChain(files, opts));
  });

  it('keys an unpaired surrogate apart from U+FFFD, which UTF-8 would have made one key', async () => {
    const { planner } = cached();
    const valid = await planner.plan(one("SELECT '\ufffd';"), options);
    expect(valid.steps).toHaveLength(1);
    const error = await refusal(planner.plan(one("SELECT '\ud800';"), options));
    expect(error).toMatchObject({ code: 'SQL_RUNNER_TEXT_INVALID', statusCode: 422 });
    expect((await planner.plan(one("SELECT '\ufffd';"), options)).steps).toHaveLength(1);
  });

  it('keeps a syntax error (the text alone decides it), a fresh error for every request', async () => {
    const { planner, queued } = cached();
    const first = await refusal(planner.plan(one('SELECT 1;\nselec 2;'), options, 'a'));
    const second = await refusal(planner.plan(one('SELECT 1;\nselec 2;'), options, 'b'));
    for (const error of [first, second])
      expect(error).toMatchObject({ code: 'SQL_RUNNER_SYNTAX_ERROR', statusCode: 422, details: { line: 2 } });
    expect(second).not.toBe(first);
    expect(await queued()).toBe(1);
  });

  it('never keeps a timeout: the next sender of the text gets a job of its own', async () => {
    const { planner, queued } = cached({ PLAN_TIMEOUT_MS: 200, PLAN_WORKERS: 1 });
    const slow = one('SELECT 1;\n'.repeat(99_000)); // ~1.5 s of one worker, under the 1 Mi characters keyed
    for (const account of ['a', 'b']) {
      const error = await refusal(planner.plan(slow, options, account));
      expect(error).toMatchObject({ code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED', details: { limit: 'timeMs' } });
    }
    expect(await queued()).toBe(2);
  }, 30_000);

  it('answers a refusal to the account it was for; a request waiting on that plan asks again for itself', async () => {
    const { planner, queued } = cached({ PLAN_QUEUE_PER_ACCOUNT: 1 });
    const busy = planner.plan(one('SELECT 1;\n'.repeat(20_000)), options, 'a'); // a's one plan in progress
    const refused = refusal(planner.plan(one(TAIL), options, 'a')); // a's second: refused at once
    const joined = planner.plan(one(TAIL), options, 'b'); // the same text, sent meanwhile by b
    expect(await refused).toMatchObject({ code: 'SQL_RUNNER_PLANNER_ACCOUNT_BUSY', statusCode: 429 });
    expect(await joined).toEqual(await planChain(one(TAIL), options));
    await busy;
    expect(await queued()).toBe(2);
  });

  it('keeps a head once for every session: planned from the base state, its keys moved onto each one', async () => {
    const { planner, queued } = cached();
    const head = one('SELECT count(*) FROM books;\nINSERT INTO books VALUES (1000, $$x$$);', 'head.sql');
    for (const startKey of ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)]) {
      const asked = { ...options, startKey, keepCanonical: true };
      expect(await planner.plan(head, asked)).toEqual(await planChain(head, asked));
    }
    expect(await queued()).toBe(1);
  });

  it('hands out plans nobody can change under the others', async () => {
    const { planner } = cached();
    const chain = await planner.plan(one(TAIL), options);
    expect(() => {
      (chain.steps[0] as { sql: string }).sql = 'DROP TABLE books';
    }).toThrow(TypeError);
    expect(() => chain.steps.pop()).toThrow(TypeError);
    expect((await planner.plan(one(TAIL), options)).steps[0]?.sql).toContain('CREATE TABLE books');
  });

  it('forgets the least recently used plan past PLAN_CACHE_ENTRIES', async () => {
    const { planner, queued } = cached({ PLAN_CACHE_ENTRIES: 2 });
    for (const sql of ['SELECT 1;', 'SELECT 2;', 'SELECT 1;', 'SELECT 3;']) await planner.plan(one(sql), options);
    expect(await queued()).toBe(3); // SELECT 1 used again before SELECT 3 came: SELECT 2 went
    await planner.plan(one('SELECT 1;'), options);
    expect(await queued()).toBe(3);
    await planner.plan(one('SELECT 2;'), options);
    expect(await queued()).toBe(4);
  });

  it('keeps within PLAN_CACHE_MAX_BYTES: a plan over an eighth of it is not kept, and large texts are not keyed', async () => {
    const { planner, queued, lookups } = cached({ PLAN_CACHE_MAX_BYTES: 1024 * 1024 });
    const many = one('SELECT 1;\n'.repeat(1_000)); // ~330 KB as a plan: over 128 KiB
    await planner.plan(many, options);
    await planner.plan(many, options);
    expect(await queued()).toBe(2);
    expect(planner.size().entries).toBe(0);
    const large = one(`SELECT '${'x'.repeat(1024 * 1024)}';`);
    await planner.plan(large, options);
    expect((await lookups()).skipped).toBe(1);
  });
});
