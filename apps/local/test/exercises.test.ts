import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { authCall } from './auth-helpers.js';
import { rowsOf, run, startTestStack, type TestStack } from './stack.js';

// Issue 18's first platform slice through the whole platform: the gateway's role check, the exercises service,
// its publish measuring the reference's mutants on sql-runner's throwaway clones (env-manager, snapshot-cache).

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);

const SETUP = `CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, dept text NOT NULL, salary int NOT NULL, bonus int);
INSERT INTO employees VALUES (1, 'ann', 'eng', 100, 5), (2, 'bob', 'eng', 90, 3), (3, 'cy', 'ops', 120, 1), (4, 'ed', 'eng', 80, 2);
`;
/** A hidden dataset with a tie on the top pay, NULL bonuses, a department before 'eng', an early name with low pay. */
const TIES_AND_NULLS = `TRUNCATE employees;
INSERT INTO employees VALUES (1, 'dan', 'eng', 90, NULL), (2, 'bob', 'eng', 95, 5), (3, 'ann', 'eng', 100, NULL),
  (4, 'cy', 'ops', 120, 1), (5, 'abe', 'design', 200, 0), (6, 'al', 'eng', 10, 1);
`;
const SOLUTION =
  "SELECT name, salary + coalesce(bonus, 0) AS pay FROM employees WHERE dept = 'eng' ORDER BY pay DESC, name LIMIT 1";

const exercise = (slug: string, extra: Record<string, unknown> = {}) => ({
  slug,
  title: 'Top earner of eng',
  task: 'Name the **best paid** engineer and their pay (salary plus bonus; no bonus counts as none).',
  setup: { sql: SETUP },
  solution: SOLUTION,
  minKillScore: 0.9,
  ...extra,
});

describe('exercises through the whole platform: authoring and publishing (issue 18)', () => {
  let stack: TestStack;
  let instructor: { id: string; token: string };
  let otherInstructor: { id: string; token: string };
  let learner: { id: string; token: string };
  /** The exercise published by the publish test, answered by the attempts test. */
  let publishedId: string;
  let draftId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    instructor = await accountWithToken(stack, 'instructor');
    otherInstructor = await accountWithToken(stack, 'instructor');
    learner = await accountWithToken(stack, 'learner');
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  /** Throwaway instances not yet deleted, polled until none (the answers do not wait for the deletes). */
  const liveThrowaways = async () => {
    const live = () =>
      controlPlane(
        stack,
        "SELECT id FROM env_manager.instances WHERE owner_role = 'throwaway' AND state NOT IN ('Deleted', 'Failed')",
      );
    for (let i = 0; i < 200 && (await live()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    return live();
  };

  it('runs as a service of its own: ready, with its own schema', async () => {
    const ready = await fetch(`${stack.services.exercisesUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const tables = await controlPlane<{ tablename: string }>(
      stack,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'exercises' ORDER BY tablename",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['exercise_datasets', 'exercises', 'publications']),
    );
  });

  it('refuses authoring to anonymous and learner accounts with 403 GATEWAY_FORBIDDEN, and to no token with 401', async () => {
    const anonymous = await stack.signIn();
    for (const token of [anonymous, learner.token]) {
      const refused = await api(stack, 'POST', '/api/exercises', token, exercise('refused'));
      expect([refused.status, refused.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);
    }
    expect((await api(stack, 'POST', '/api/exercises', undefined, exercise('refused'))).status).toBe(401);
    expect(await controlPlane(stack, "SELECT id FROM exercises.exercises WHERE slug = 'refused'")).toEqual([]);
  });

  it('refuses a reference that does not parse, a taken slug, and bodies past their bounds, before anything runs', async () => {
    const syntax = await api(stack, 'POST', '/api/exercises', instructor.token, {
      ...exercise('bad-reference'),
      solution: 'SELEC name FROM employees',
    });
    expect([syntax.status, syntax.body.code]).toEqual([422, 'EXERCISES_REFERENCE_SYNTAX']);
    const tooMany = await api(stack, 'POST', '/api/exercises', instructor.token, {
      ...exercise('too-many'),
      datasets: Array.from({ length: 9 }, (_, i) => ({ name: `d${i}`, sql: 'SELECT 1' })),
    });
    expect([tooMany.status, tooMany.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const longTitle = await api(stack, 'POST', '/api/exercises', instructor.token, {
      ...exercise('long-title'),
      title: 'x'.repeat(201),
    });
    expect([longTitle.status, longTitle.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const first = await api(stack, 'POST', '/api/exercises', instructor.token, exercise('taken'));
    expect(first.status).toBe(201);
    const again = await api(stack, 'POST', '/api/exercises', instructor.token, exercise('taken'));
    expect([again.status, again.body.code]).toEqual([409, 'EXERCISES_SLUG_TAKEN']);
  });

  it('refuses to publish below the minimum kill score with the survivors, then publishes once a dataset kills them', async () => {
    const weak = await api(stack, 'POST', '/api/exercises', instructor.token, exercise('top-earner-weak'));
    expect(weak.status, JSON.stringify(weak.body)).toBe(201);
    expect(weak.body).toMatchObject({ status: 'draft', solution: SOLUTION, datasets: [], report: null });
    // A draft is not the learner's to see.
    const hidden = await api(stack, 'GET', `/api/exercises/${weak.body.id}`, learner.token);
    expect([hidden.status, hidden.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);
    // Another instructor may not publish it.
    const stranger = await api(stack, 'POST', `/api/exercises/${weak.body.id}/publish`, otherInstructor.token);
    expect([stranger.status, stranger.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);
    const learnerPublish = await api(stack, 'POST', `/api/exercises/${weak.body.id}/publish`, learner.token);
    expect([learnerPublish.status, learnerPublish.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);

    const refused = await api(stack, 'POST', `/api/exercises/${weak.body.id}/publish`, instructor.token);
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.body.code).toBe('EXERCISES_KILL_SCORE_TOO_LOW');
    expect(refused.body.score).toBeLessThan(0.9);
    const survivors = (refused.body.report.survivors as { label: string }[]).map((m) => m.label);
    expect(survivors).toEqual(
      expect.arrayContaining([
        'ORDER BY name ASC → DESC',
        'ORDER BY dropped',
        'COALESCE(bonus, 0) → bonus (in SELECT)',
      ]),
    );
    const [stored] = await controlPlane<{ status: string; score: number }>(
      stack,
      "SELECT status, (report->>'score')::float8 AS score FROM exercises.exercises WHERE id = $1",
      [weak.body.id],
    );
    expect(stored).toEqual({ status: 'draft', score: refused.body.score });

    const strong = await api(
      stack,
      'POST',
      '/api/exercises',
      instructor.token,
      exercise('top-earner', { datasets: [{ name: 'ties-and-nulls', sql: TIES_AND_NULLS }] }),
    );
    expect(strong.status, JSON.stringify(strong.body)).toBe(201);
    const published = await api(stack, 'POST', `/api/exercises/${strong.body.id}/publish`, instructor.token);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    const { report } = published.body;
    console.log(
      `publish of top-earner: ${report.killed}/${report.killed + report.survivors.length} killed (score ${report.score.toFixed(2)}), ${report.mutants} mutants, ${report.ms} ms; survivors: ${report.survivors.map((m: { label: string }) => m.label).join(' | ')}`,
    );
    expect(published.body.status).toBe('published');
    expect(report.score).toBeGreaterThanOrEqual(0.9);
    expect(report.score).toBeGreaterThan(refused.body.score);
    expect(report.mutants).toBe(refused.body.report.mutants);
    expect(report.datasets.map((d: { name: string }) => d.name)).toEqual(['start', 'ties-and-nulls']);
    const kills = Object.fromEntries(report.datasets.map((d: { name: string; killed: number }) => [d.name, d.killed]));
    expect(kills['ties-and-nulls']).toBeGreaterThan(kills.start);
    const publications = await controlPlane<{ version: number; published_by: string }>(
      stack,
      'SELECT version, published_by FROM exercises.publications WHERE exercise_id = $1',
      [strong.body.id],
    );
    expect(publications).toEqual([{ version: 1, published_by: instructor.id }]);

    // The learner sees the published exercise without its solution or hidden data; the author sees everything.
    const seen = await api(stack, 'GET', `/api/exercises/${strong.body.id}`, learner.token);
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({
      id: strong.body.id,
      slug: 'top-earner',
      title: 'Top earner of eng',
      task: expect.stringContaining('**best paid**'),
      kind: 'query',
      setup: { sql: SETUP },
      status: 'published',
      publishedAt: published.body.publishedAt,
    });
    expect(JSON.stringify(seen.body)).not.toContain('dan');
    const authored = await api(stack, 'GET', `/api/exercises/${strong.body.id}`, instructor.token);
    expect(authored.body).toMatchObject({ solution: SOLUTION, status: 'published', report: { score: report.score } });
    expect(authored.body.datasets).toEqual([{ name: 'ties-and-nulls', sql: TIES_AND_NULLS }]);
    publishedId = strong.body.id;
    draftId = weak.body.id;
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);

  it('grades attempts on the start state and the hidden dataset: each kind of wrong answer with its reason, progress kept', async () => {
    const attempt = async (sql: string, token = learner.token, id = publishedId) =>
      api(stack, 'POST', `/api/exercises/${id}/attempts`, token, { sql });
    // Written otherwise than the reference: passes on every dataset.
    const right = await attempt(
      "SELECT e.name, e.salary + COALESCE(e.bonus, 0) AS pay\nFROM employees e WHERE e.dept = 'eng'\nORDER BY 2 DESC, 1 FETCH FIRST 1 ROW ONLY",
    );
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(right.body).toMatchObject({
      passed: true,
      checks: [
        { dataset: 'start', passed: true },
        { dataset: 'hidden-1', passed: true },
      ],
    });
    expect(right.body.timings.totalMs).toBeGreaterThan(0);
    console.log(`attempt graded on start + 1 hidden dataset in ${right.body.timings.totalMs} ms`);

    // A missing bonus not counted as none: right on the start state, wrong on the hidden one (rows), two rows at most.
    const noCoalesce = await attempt(
      "SELECT name, salary + bonus AS pay FROM employees WHERE dept = 'eng' ORDER BY pay DESC NULLS LAST, name LIMIT 1",
    );
    expect(noCoalesce.body.passed).toBe(false);
    const [start, hidden] = noCoalesce.body.checks;
    expect(start).toMatchObject({ dataset: 'start', passed: true });
    expect(hidden).toMatchObject({
      dataset: 'hidden-1',
      passed: false,
      reason: 'rows',
      missingCount: 1,
      extraCount: 1,
    });
    expect(hidden.missingRows.length).toBeLessThanOrEqual(2);
    expect(JSON.stringify(noCoalesce.body)).not.toContain('abe'); // the hidden data beyond the rows shown

    const columns = await attempt("SELECT name FROM employees WHERE dept = 'eng' ORDER BY salary DESC LIMIT 1");
    expect(columns.body.checks[0]).toMatchObject({ passed: false, reason: 'columns' });
    const error = await attempt('SELECT name,\n  nope FROM employees');
    expect(error.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'error',
      error: { sqlstate: '42703', line: 2, column: 3 },
    });
    const every = await attempt(
      "SELECT name, salary + coalesce(bonus, 0) AS pay FROM employees WHERE dept = 'eng' ORDER BY pay, name",
    );
    expect(every.body.checks[0]).toMatchObject({ passed: false, reason: 'rows', extraCount: 2 });
    const slow = await attempt('SELECT pg_sleep(30)');
    expect(slow.body.checks[0]).toMatchObject({ passed: false, reason: 'time-limit' });

    // A write in an attempt runs on the clones only: the learner's own instance at the start state keeps its rows.
    const sessionId = crypto.randomUUID();
    const before = await run(stack, learner.token, {
      sessionId,
      tail: { sql: SETUP },
      head: 'SELECT count(*) FROM employees',
    });
    expect(rowsOf(before.events)).toEqual([['4']]);
    const write = await attempt('DELETE FROM employees;\nSELECT count(*) FROM employees');
    expect(write.body.checks[0]).toMatchObject({ passed: false, reason: 'columns' });
    const after = await run(stack, learner.token, { sessionId, head: 'SELECT count(*) FROM employees' });
    expect(after.events.at(-1)).toMatchObject({ type: 'done', source: 'session' });
    expect(rowsOf(after.events)).toEqual([['4']]);

    // Anyone solves, an anonymous learner too; a draft is not there to answer.
    const anonymous = await stack.signIn();
    expect((await attempt('SELECT 1', anonymous)).status).toBe(200);
    const draft = await attempt('SELECT 1', learner.token, draftId);
    expect([draft.status, draft.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);

    // The service's figures: attempts by outcome (the draft's 404 by its code), publishes, mutants.
    const metrics = await (await fetch(`${stack.services.exercisesUrl}/metrics`)).text();
    const figure = (name: string, label: string) =>
      Number(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect(figure('taidon_exercise_attempts_total', 'outcome="passed"')).toBe(1);
    expect(figure('taidon_exercise_attempts_total', 'outcome="failed"')).toBe(7);
    expect(figure('taidon_exercise_attempts_total', 'outcome="EXERCISES_NOT_FOUND"')).toBe(1);
    expect(figure('taidon_exercise_publishes_total', 'outcome="published"')).toBe(1);
    expect(figure('taidon_exercise_publishes_total', 'outcome="EXERCISES_KILL_SCORE_TOO_LOW"')).toBe(1);
    expect(figure('taidon_exercise_mutants_total', 'result="killed"')).toBeGreaterThanOrEqual(15);

    const mine = await api(stack, 'GET', '/api/me/progress', learner.token);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual([
      {
        exerciseId: publishedId,
        slug: 'top-earner',
        title: 'Top earner of eng',
        attempts: 7,
        firstSolvedAt: expect.any(String),
      },
    ]);
    // The catalog: a learner sees the published exercise only, its author its drafts too.
    const catalog = await api(stack, 'GET', '/api/exercises', learner.token);
    expect(catalog.body.map((e: { slug: string }) => e.slug)).toEqual(['top-earner']);
    const authored = await api(stack, 'GET', '/api/exercises', instructor.token);
    expect(authored.body.map((e: { slug: string }) => e.slug)).toEqual(
      expect.arrayContaining(['taken', 'top-earner', 'top-earner-weak']),
    );
    expect((await api(stack, 'GET', '/api/exercises', otherInstructor.token)).body).toHaveLength(1);
    const [progress] = await controlPlane<{ attempts: number; solved: boolean }>(
      stack,
      'SELECT attempts, first_solved_at IS NOT NULL AS solved FROM exercises.progress WHERE account_id = $1 AND exercise_id = $2',
      [learner.id, publishedId],
    );
    expect(progress).toEqual({ attempts: 7, solved: true });
    const rows = await controlPlane<{ passed: boolean }>(
      stack,
      'SELECT passed FROM exercises.attempts WHERE account_id = $1 ORDER BY at',
      [learner.id],
    );
    expect(rows.map((r) => r.passed)).toEqual([true, false, false, false, false, false, false]);
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);

  it("keeps an anonymous learner's progress when they sign up (the account is upgraded in place)", async () => {
    const anonymous = await authCall(stack.url, 'POST', '/api/auth/anonymous');
    const token = anonymous.body.accessToken as string;
    const solved = await api(stack, 'POST', `/api/exercises/${publishedId}/attempts`, token, { sql: SOLUTION });
    expect(solved.body.passed, JSON.stringify(solved.body)).toBe(true);
    const body = { email: `solver-${Date.now()}@example.test`, password: 'solver password 1' };
    const upgraded = await authCall(stack.url, 'POST', '/api/auth/upgrade', { body, token });
    expect(upgraded.status).toBe(200);
    const mine = await api(stack, 'GET', '/api/me/progress', upgraded.body.accessToken as string);
    expect(mine.body).toEqual([
      expect.objectContaining({ exerciseId: publishedId, attempts: 1, firstSolvedAt: expect.any(String) }),
    ]);
    // Signed in again later (a new session of the registered account), the progress is still theirs.
    const signedIn = await authCall(stack.url, 'POST', '/api/auth/login', { body });
    const again = await api(stack, 'GET', '/api/me/progress', signedIn.body.accessToken as string);
    expect(again.body).toEqual(mine.body);
  }, 120_000);

  it("refuses to publish a reference that fails on a dataset, and a dataset that fails to build, with the SQL's place", async () => {
    const failing = await api(
      stack,
      'POST',
      '/api/exercises',
      instructor.token,
      exercise('reference-fails', {
        solution: 'SELECT name, 10 / (salary - 90) AS x FROM employees ORDER BY name',
        datasets: [{ name: 'nineties', sql: 'UPDATE employees SET salary = 90;' }],
      }),
    );
    expect(failing.status, JSON.stringify(failing.body)).toBe(201);
    const refused = await api(stack, 'POST', `/api/exercises/${failing.body.id}/publish`, instructor.token);
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    // On the start state bob's salary is 90 already: the reference divides by zero there.
    expect(refused.body).toMatchObject({ code: 'EXERCISES_REFERENCE_FAILED', dataset: 'start', sqlstate: '22012' });

    const broken = await api(
      stack,
      'POST',
      '/api/exercises',
      instructor.token,
      exercise('dataset-fails', {
        datasets: [{ name: 'typo', sql: 'TRUNCATE employees;\nINSERT INTO employes VALUES (1);\n' }],
      }),
    );
    const notBuilt = await api(stack, 'POST', `/api/exercises/${broken.body.id}/publish`, instructor.token);
    expect(notBuilt.status, JSON.stringify(notBuilt.body)).toBe(422);
    expect(notBuilt.body).toMatchObject({
      code: 'EXERCISES_SETUP_FAILED',
      dataset: 'typo',
      sqlstate: '42P01',
      line: 2,
    });
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);
});
