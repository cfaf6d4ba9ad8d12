import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOutBomb, setDoubling } from '../../../services/sql-runner/test/domain/chain/hostile.js';
import { accountWithToken, api } from './accounts-helpers.js';
import { run, startTestStack, type TestStack } from './stack.js';

// Issue 20, items 1, 5 and 6 (NUL, `\\`), through the whole platform as `npm start` wires it (every service
// in this one process): each hostile plan is answered with a clear 4xx in bounded time while another
// learner's `SELECT 1` run keeps its usual latency, measured against a floor taken in this file.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_WARM_POOL_EMPTY = '1';
// The learner below runs back to back for minutes: the gateway's per-account rate limit is not under test.
process.env.RATE_LIMIT_ACCOUNT_MAX = '100000';

const RAW_VARIABLES = `\\set v12 x\n${Array.from({ length: 12 }, (_, i) => `\\set v${i} ':v${i + 1}:v${i + 1}:v${i + 1}:v${i + 1}'`).join('\n')}\nSELECT :v0;`;

describe('hostile plans through the platform', () => {
  let stack: TestStack;
  let hostile: string;
  let learner: string;
  const session = randomUUID();
  let floorMs: number;
  let heapBefore: number;

  const learnerRun = async () => {
    const started = performance.now();
    const answer = await run(stack, learner, { sessionId: session, head: 'SELECT 1' });
    expect(answer.status).toBe(200);
    expect(answer.events.at(-1)?.type).toBe('done');
    return performance.now() - started;
  };

  /** `request` as the hostile learner while the other learner runs `SELECT 1` in a loop. */
  async function underLoad<T>(request: () => Promise<T>) {
    let done = false;
    const runs: number[] = [];
    const loop = (async () => {
      while (!done) {
        runs.push(await learnerRun());
        // An admin's 600 runs a minute leave room for this pace over the whole file.
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const started = performance.now();
    const answer = await request();
    const hostileMs = performance.now() - started;
    done = true;
    await loop;
    return { answer, hostileMs, learnerMaxMs: Math.max(...runs), learnerRuns: runs.length };
  }

  const plan = (body: unknown) => api(stack, 'POST', '/api/plan', hostile, body);
  const hostileRun = (body: Record<string, unknown>) => run(stack, hostile, body);
  /** Generous: the machine is shared, and hostile bodies (up to 10 MB) are read and parsed on this loop. */
  const learnerBound = () => Math.max(10 * floorMs, floorMs + 3_000);

  beforeAll(async () => {
    stack = await startTestStack();
    hostile = await stack.signIn();
    // Any role would do for latency; an admin's run rate lets the loop run back to back.
    learner = (await accountWithToken(stack, 'admin')).token;
    await learnerRun(); // the instance, the planner's workers
    await plan({ sql: 'SELECT 1;' });
    const samples: number[] = [];
    for (let i = 0; i < 9; i++) samples.push(await learnerRun());
    floorMs = samples.sort((a, b) => a - b)[4] as number;
    heapBefore = process.memoryUsage().heapUsed;
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const limitCases: Array<[string, () => Promise<{ status: number; body?: any; problem?: any }>, object]> = [
    ['the 7-file \\i fan-out bomb as a plan', () => plan({ files: fanOutBomb(7, 10) }), { limit: 'includes' }],
    [
      'the 7-file \\ir fan-out bomb as a run tail',
      () => hostileRun({ tail: { files: fanOutBomb(7, 10, true) }, head: 'SELECT 1' }),
      { limit: 'includes', max: 10_000 },
    ],
    ['\\set a :a:a:a:a 15 times as a plan', () => plan({ sql: setDoubling(15) }), { limit: 'variableChars' }],
    [
      '\\set a :a:a:a:a 13 times as a run head',
      () => hostileRun({ head: setDoubling(13) }),
      { limit: 'variableChars', path: 'head.sql' },
    ],
    ['raw variables lexed again as a plan', () => plan({ sql: RAW_VARIABLES }), { limit: 'chars' }],
    [
      '10 MB of SELECT 1; as a plan',
      () => plan({ sql: 'SELECT 1;'.repeat(1_200_000) }),
      { limit: 'steps', max: 100_000 },
    ],
  ];
  for (const [name, request, details] of limitCases) {
    it(`answers ${name} with 422 while another learner's SELECT 1 runs as usual`, async () => {
      const { answer, hostileMs, learnerMaxMs, learnerRuns } = await underLoad(request);
      const problem = answer.body ?? answer.problem;
      expect(answer.status).toBe(422);
      expect(problem).toMatchObject({ code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED', sqlstate: '54000', ...details });
      expect(hostileMs).toBeLessThan(20_000);
      expect(learnerRuns).toBeGreaterThan(0);
      expect(learnerMaxMs).toBeLessThan(learnerBound());
      console.info(
        `${name}: 422 after ${Math.round(hostileMs)} ms; learner's SELECT 1 run max ${Math.round(learnerMaxMs)} ms over ${learnerRuns} runs (floor ${Math.round(floorMs)} ms)`,
      );
    }, 90_000);
  }

  it('plans 16,000 statements with their cache state (no false 413), while another learner runs as usual', async () => {
    const { answer, learnerMaxMs } = await underLoad(() => plan({ sql: 'SELECT 1;\n'.repeat(16_000) }));
    expect(answer.status).toBe(200);
    expect(answer.body.steps).toHaveLength(16_000);
    expect(answer.body.steps.every((s: { cached?: boolean }) => typeof s.cached === 'boolean')).toBe(true);
    expect(answer.body.startsFrom).toMatchObject({ afterStep: -1, replaySteps: 16_000 });
    expect(learnerMaxMs).toBeLessThan(learnerBound());
  }, 90_000);

  it.each([
    [
      'a plan file',
      () => plan({ files: [{ path: 'init/a.sql', sql: 'SELECT 1;\nSELECT 2\u0000 + 1;' }] }),
      'init/a.sql',
      2,
      9,
    ],
    ['a run tail', () => hostileRun({ tail: { sql: 'SELECT\u0000 1;' }, head: 'SELECT 1' }), 'query.sql', 1, 7],
    // Before: planned as `SELECT 1`, then failed at execution with 08P01.
    ['a run head', () => hostileRun({ head: 'SELECT 1;\n  SELECT 1\u0000' }), 'head.sql', 2, 11],
  ])('refuses a NUL in %s up front with 422 and its position', async (_, request, path, line, column) => {
    const answer = (await request()) as { status: number; body?: any; problem?: any };
    expect(answer.status).toBe(422);
    expect(answer.body ?? answer.problem).toMatchObject({
      code: 'SQL_RUNNER_TEXT_INVALID',
      sqlstate: '22021',
      character: 'U+0000',
      path,
      line,
      column,
    });
  });

  it("names psql's \\\\ separator without a class name", async () => {
    const answer = await plan({ sql: '\\\\' });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      code: 'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
      detail: "psql's \\\\ separator on line 1 is not supported",
    });
    expect(answer.body.detail).not.toMatch(/Error/);
  });

  it("refuses one account's plans past its share of the planner with 429 and Retry-After through the gateway", async () => {
    // Each takes seconds (the `chars` limit is reached after ~33M characters read); one account plans one
    // at a time and may have four waiting or planning. Six different texts: the same one, planned once above,
    // would be answered from the cache of plans (ADR 0043) without a job.
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => plan({ sql: `${RAW_VARIABLES}\n-- variant ${i}` })),
    );
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ code: 'SQL_RUNNER_PLANNER_ACCOUNT_BUSY', instance: '/api/plan' });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(answers.filter((a) => a.status === 422)).toHaveLength(answers.length - refused.length);
  }, 90_000);

  it('kept the heap of the process that runs every service bounded', () => {
    // Every expansion above happened in the planner's workers; what is left here is requests and caches.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(300 * 1024 * 1024);
  });
});
