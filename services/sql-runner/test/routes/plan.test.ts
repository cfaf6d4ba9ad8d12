import { ACCOUNT_HEADER, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { SANDBOX_RESULT_SETTINGS } from '../../src/domain/engine.js';
import { fanOutBomb, setDoubling } from '../domain/chain/hostile.js';

// The hostile plans of issue 20 against POST /plan, each sent while another account plans `SELECT 1`
// over and over: the hostile one gets a clear 4xx in bounded time, the other keeps its usual latency.

const TOKEN = 'plan-route-token';

describe('POST /plan under hostile plans', () => {
  let app: FastifyInstance;
  let url: string;
  let logs: () => string[];
  let floorMs: number;

  const post = async (body: unknown, account: string) => {
    const response = await fetch(`${url}/plan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SERVICE_TOKEN_HEADER]: TOKEN, [ACCOUNT_HEADER]: account },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  // A text of its own each time: a kept plan would take no worker, and the worker is what the hostile plan holds.
  let learnerPlans = 0;
  const learnerPlan = async () => {
    const started = performance.now();
    const answer = await post({ sql: `SELECT ${++learnerPlans};` }, 'learner');
    expect(answer.status).toBe(200);
    return performance.now() - started;
  };

  /** Sends `body` as the hostile account while the learner plans in a loop; both timings. */
  async function underLoad(body: unknown) {
    let done = false;
    const learner: number[] = [];
    const loop = (async () => {
      while (!done) learner.push(await learnerPlan());
    })();
    const started = performance.now();
    const answer = await post(body, 'hostile');
    const hostileMs = performance.now() - started;
    done = true;
    await loop;
    return { answer, hostileMs, learnerMaxMs: Math.max(...learner), learnerPlans: learner.length };
  }

  beforeAll(async () => {
    const logger = captureLogger('sql-runner');
    logs = logger.lines;
    app = buildApp({
      config: { SERVICE_TOKEN: TOKEN },
      engine: { version: '18.4', settings: SANDBOX_RESULT_SETTINGS },
      logger: logger.logger,
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    // Both workers started and warm, then the learner's usual latency.
    await Promise.all([learnerPlan(), post({ sql: 'SELECT 2;' }, 'other')]);
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) samples.push(await learnerPlan());
    floorMs = samples.sort((a, b) => a - b)[5] as number;
  });
  afterAll(async () => app?.close());

  /** Generous: the machine is shared, and the hostile body is read and parsed on the same loop. */
  const learnerBound = () => Math.max(20 * floorMs, floorMs + 3_000);

  const cases: Array<[string, () => unknown, Record<string, unknown>]> = [
    ['the 7-file \\i fan-out bomb', () => ({ files: fanOutBomb(7, 10) }), { limit: 'includes', max: 10_000 }],
    ['the 7-file \\ir fan-out bomb', () => ({ files: fanOutBomb(7, 10, true) }), { limit: 'includes' }],
    ['\\set a :a:a:a:a 13 times', () => ({ sql: setDoubling(13) }), { limit: 'variableChars', line: 12 }],
    ['\\set a :a:a:a:a 15 times', () => ({ sql: setDoubling(15) }), { limit: 'variableChars', line: 12 }],
    ['10 MB of SELECT 1;', () => ({ sql: 'SELECT 1;'.repeat(1_200_000) }), { limit: 'steps', max: 100_000 }],
    [
      'raw variables lexed again (4^12 characters from 500 bytes)',
      () => ({
        sql: `\\set v12 x\n${Array.from({ length: 12 }, (_, i) => `\\set v${i} ':v${i + 1}:v${i + 1}:v${i + 1}:v${i + 1}'`).join('\n')}\nSELECT :v0;`,
      }),
      { limit: 'chars', max: 32 * 1024 * 1024 },
    ],
  ];
  for (const [name, body, details] of cases) {
    it(`answers ${name} with 422 SQL_RUNNER_PLAN_LIMIT_EXCEEDED while another account plans as usual`, async () => {
      const heap = process.memoryUsage().heapUsed;
      const { answer, hostileMs, learnerMaxMs, learnerPlans } = await underLoad(body());
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED', sqlstate: '54000', ...details });
      expect(hostileMs).toBeLessThan(15_000);
      expect(learnerPlans).toBeGreaterThan(0);
      expect(learnerMaxMs).toBeLessThan(learnerBound());
      // Nothing of the expansion stays in this process.
      expect(process.memoryUsage().heapUsed - heap).toBeLessThan(200 * 1024 * 1024);
      console.info(
        `${name}: 4xx after ${Math.round(hostileMs)} ms; learner max ${Math.round(learnerMaxMs)} ms over ${learnerPlans} plans (floor ${Math.round(floorMs)} ms)`,
      );
    }, 60_000);
  }

  it('plans 16,000 statements (no false 413) while another account plans as usual', async () => {
    const { answer, learnerMaxMs } = await underLoad({ sql: 'SELECT 1;\n'.repeat(16_000) });
    expect(answer.status).toBe(200);
    expect(answer.body.steps).toHaveLength(16_000);
    expect(answer.body.steps[15_999]).toMatchObject({ line: 16_000, path: 'query.sql' });
    expect(learnerMaxMs).toBeLessThan(learnerBound());
  }, 60_000);

  it.each([
    ['a plan file', { files: [{ path: 'init/a.sql', sql: 'SELECT 1;\nSELECT 2\u0000;' }] }, 'init/a.sql', 2, 9],
    [
      'a file only included',
      {
        files: [
          { path: 'a.sql', sql: 'SELECT 1;' },
          { path: 'b.sql', sql: '\u0000', run: false },
        ],
      },
      'b.sql',
      1,
      1,
    ],
    ['an inline text', { sql: 'SELECT \uD800;' }, 'query.sql', 1, 8],
  ])('refuses text PostgreSQL cannot take in %s with 422 and its position', async (_, body, path, line, column) => {
    const answer = await post(body, 'hostile');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'SQL_RUNNER_TEXT_INVALID', sqlstate: '22021', path, line, column });
  });

  it("names psql's \\\\ separator without a class name", async () => {
    const answer = await post('{"sql":"\\\\\\\\"}', 'hostile');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      code: 'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
      detail: "psql's \\\\ separator on line 1 is not supported",
      line: 1,
      column: 1,
    });
    expect(JSON.stringify(answer.body)).not.toMatch(/Error/);
  });

  it('answers past an account’s share of the planner with 429 and Retry-After, and serves it again after', async () => {
    // Six different texts: identical ones would share one plan (the cache of plans, ADR 0043) and take one slot.
    const heavy = (i: number) => ({ sql: `SELECT ${i};\n`.repeat(40_000) });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(heavy(i), 'greedy')));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBe(2);
    for (const a of refused) {
      expect(a.body).toMatchObject({ code: 'SQL_RUNNER_PLANNER_ACCOUNT_BUSY', retryAfterSeconds: 1 });
      expect(a.headers.get('retry-after')).toBe('1');
    }
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    expect((await post({ sql: 'SELECT 1;' }, 'greedy')).status).toBe(200);
    expect(logs().join('\n')).not.toContain('SELECT 1;');
  }, 120_000);
});
