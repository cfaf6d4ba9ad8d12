import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

// Issue 18's review of publishing and grading, through the whole platform: a hidden dataset that fails to build
// during an attempt never reaches the learner (finding 9); an unpublish whose release fails still leaves its
// audit record (finding 6); an unpublish during a publish's measure wins, and leaves no layer held (finding 3);
// an answer in another order fails with reason order; a publish waits out the throwaway bound.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);

const SETUP = `CREATE TABLE items (id int PRIMARY KEY, price int NOT NULL);
INSERT INTO items SELECT g, g * 10 FROM generate_series(1, 5) g;
`;
const HIDDEN = 'UPDATE items SET price = 7 WHERE id = 3;\n';
const QUERY = 'SELECT id, price FROM items WHERE price > 15 ORDER BY price, id';
const WRITE = 'UPDATE items SET price = price + 1 WHERE price > 15';
/** What the author's broken dataset says when it fails: never shown to a learner. */
const SECRET = 'secret_ties_marker';

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('publishing and grading after the review (issue 18)', () => {
  let stack: TestStack;
  let instructor: { id: string; token: string };
  let learner: { id: string; token: string };

  beforeAll(async () => {
    stack = await startTestStack();
    instructor = await accountWithToken(stack, 'instructor');
    learner = await accountWithToken(stack, 'learner');
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const holdsOf = (id: string) =>
    controlPlane<{ key: string }>(stack, 'SELECT key FROM sql_runner.layer_holds WHERE holder = $1', [
      `exercise:${id}`,
    ]);
  const statusOf = async (id: string) =>
    (await controlPlane<{ status: string }>(stack, 'SELECT status FROM exercises.exercises WHERE id = $1', [id]))[0]
      ?.status;
  const unpublishedEvents = (id: string) =>
    controlPlane<{ action: string }>(
      stack,
      "SELECT action FROM audit_log.audit_events WHERE action = 'exercise-unpublished' AND target = $1",
      [id],
    );

  async function published(slug: string, solution: string, extra: Record<string, unknown> = {}) {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug,
      title: slug,
      task: 'As the solution does.',
      setup: { sql: SETUP },
      solution,
      datasets: [{ name: 'secret-ties', sql: HIDDEN }],
      ...extra,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const answer = await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return id;
  }

  it.each([
    ['query', QUERY, {}],
    ['write', WRITE, { compare: { tables: ['items'] } }],
  ])(
    'answers a %s attempt whose hidden dataset fails to build 503 with nothing of the dataset',
    async (kind, solution, extra) => {
      const id = await published(`broken-${kind}`, solution, extra);
      // The dataset as stored with the publication now fails (as one that builds differently after an eviction).
      await controlPlane(
        stack,
        "UPDATE exercises.publications SET content = jsonb_set(content, '{datasets,0,sql}', to_jsonb($2::text)) WHERE exercise_id = $1",
        [id, `DO $$ BEGIN RAISE EXCEPTION '${SECRET}'; END $$;\n`],
      );
      const attempt = await api(stack, 'POST', `/api/exercises/${id}/attempts`, learner.token, { sql: solution });
      expect([attempt.status, attempt.body.code], JSON.stringify(attempt.body)).toEqual([
        503,
        'EXERCISES_GRADING_UNAVAILABLE',
      ]);
      const text = JSON.stringify(attempt.body);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('secret-ties');
      expect(text).not.toContain('line');
    },
  );

  it('records the unpublish when the release then fails, and lets go when called again', async () => {
    const id = await published('release-fails', QUERY);
    expect(await holdsOf(id)).toHaveLength(2);
    // sql-runner cannot let go of this holder's rows: the release fails after the row changed.
    await controlPlane(
      stack,
      `CREATE FUNCTION public.refuse_release() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF OLD.holder = 'exercise:${id}' THEN RAISE EXCEPTION 'release refused'; END IF; RETURN OLD; END $$;
       CREATE TRIGGER refuse_release BEFORE DELETE ON sql_runner.layer_holds
         FOR EACH ROW EXECUTE FUNCTION public.refuse_release()`,
    );
    const failed = await api(stack, 'DELETE', `/api/exercises/${id}/publication`, instructor.token);
    expect(failed.status, JSON.stringify(failed.body)).toBeGreaterThanOrEqual(500);
    expect(await statusOf(id)).toBe('draft');
    await eventually(
      () => unpublishedEvents(id),
      (rows) => rows.length === 1,
      'the exercise-unpublished audit event',
    );
    await controlPlane(
      stack,
      'DROP TRIGGER refuse_release ON sql_runner.layer_holds; DROP FUNCTION public.refuse_release()',
    );
    const again = await api(stack, 'DELETE', `/api/exercises/${id}/publication`, instructor.token);
    expect(again.status, JSON.stringify(again.body)).toBe(204);
    expect(await holdsOf(id)).toEqual([]);
    // The second call changed no row: no second event.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await unpublishedEvents(id)).toHaveLength(1);
  });

  it('refuses a publish whose exercise was unpublished while it measured, and holds nothing', async () => {
    const id = await published('raced', QUERY);
    // A new hidden dataset that takes seconds to build: the next publish measures for as long.
    const changed = await api(stack, 'PUT', `/api/exercises/${id}`, instructor.token, {
      slug: 'raced',
      title: 'raced',
      task: 'As the solution does.',
      setup: { sql: SETUP },
      solution: QUERY,
      datasets: [{ name: 'slow', sql: `SELECT pg_sleep(4);\n${HIDDEN}` }],
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const publishing = api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token);
    await new Promise((r) => setTimeout(r, 1500));
    const unpublished = await api(stack, 'DELETE', `/api/exercises/${id}/publication`, instructor.token);
    expect(unpublished.status, JSON.stringify(unpublished.body)).toBe(204);
    const publish = await publishing;
    expect([publish.status, publish.body.code], JSON.stringify(publish.body)).toEqual([
      409,
      'EXERCISES_PUBLICATION_CHANGED',
    ]);
    expect(await statusOf(id)).toBe('draft');
    expect(await holdsOf(id)).toEqual([]);
    // Published again on purpose, it is.
    const again = await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(await holdsOf(id)).toHaveLength(2);
  });

  it('fails an answer whose rows come in another order than the ORDER BY asks with reason order, and passes the same rows unordered where order is not asked', async () => {
    const ordered = await published('ordered', QUERY);
    const attempt = (id: string, sql: string) =>
      api(stack, 'POST', `/api/exercises/${id}/attempts`, learner.token, { sql });
    const reversed = await attempt(ordered, 'SELECT id, price FROM items WHERE price > 15 ORDER BY price DESC, id');
    expect(reversed.status, JSON.stringify(reversed.body)).toBe(200);
    // Start state: prices 20, 30, 40, 50 (ids 2..5); reversed, the first row already differs.
    expect(reversed.body.checks[0]).toMatchObject({
      dataset: 'start',
      passed: false,
      reason: 'order',
      orderDiffers: { row: 1, expected: ['2', '20'], actual: ['5', '50'] },
    });
    expect(reversed.body.checks[0].missingCount ?? 0).toBe(0);
    const unordered = await published('unordered', 'SELECT id, price FROM items WHERE price > 15');
    const any = await attempt(unordered, 'SELECT id, price FROM items WHERE price > 15 ORDER BY price DESC');
    expect(any.body).toMatchObject({ passed: true });
  });

  it('publishes a never-built exercise with more hidden datasets than the throwaway slots, every refusal waited out', async () => {
    // Three hidden datasets of the start state's very rows (each a state of its own, built by this publish):
    // more states than THROWAWAY_MAX_PER_ACCOUNT lets one account clone at once. They tell no mutant more
    // apart than the start state alone, so a busy refusal counted as a kill would show as a higher score.
    const report = async (slug: string, datasets: { name: string; sql: string }[]) => {
      const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
        slug,
        title: slug,
        task: 'As the solution does.',
        setup: { sql: SETUP },
        solution: QUERY,
        datasets,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const answer = await api(stack, 'POST', `/api/exercises/${created.body.id}/publish`, instructor.token);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body.report as { mutants: number; killed: number; survivors: { label: string }[] };
    };
    const alone = await report('start-only', []);
    const many = await report(
      'three-alike',
      [1, 2, 3].map((n) => ({ name: `alike-${n}`, sql: `CREATE TABLE note_${n} (x int);\n` })),
    );
    expect(alone.mutants).toBeGreaterThan(0);
    expect(many.mutants).toBe(alone.mutants);
    expect(many.killed).toBe(alone.killed);
    expect(many.survivors.map((m) => m.label)).toEqual(alone.survivors.map((m) => m.label));
  });

  it("keeps a pack's answer when one exercise's publish fails: its outcome refused, the rest not measured", async () => {
    // The store refuses the second exercise's publication, as a failure past the measure would.
    await controlPlane(
      stack,
      `CREATE FUNCTION public.refuse_second() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF (SELECT slug FROM exercises.exercises WHERE id = NEW.exercise_id) = 'second' THEN
             RAISE EXCEPTION 'publication refused';
           END IF;
           RETURN NEW;
         END $$;
       CREATE TRIGGER refuse_second BEFORE INSERT ON exercises.publications
         FOR EACH ROW EXECUTE FUNCTION public.refuse_second()`,
    );
    try {
      const exercise = (slug: string) => ({ slug, title: slug, task: 'As the solution does.', solution: QUERY });
      const imported = await api(stack, 'POST', '/api/exercise-packs', instructor.token, {
        slug: 'half-published',
        title: 'Half published',
        setup: { sql: SETUP },
        exercises: [exercise('first'), exercise('second'), exercise('third')],
        publish: true,
      });
      expect(imported.status, JSON.stringify(imported.body)).toBe(201);
      const outcomes = imported.body.exercises as { slug: string; status: string; refused?: { code: string } }[];
      expect(outcomes.map((o) => [o.slug, o.status, o.refused?.code ?? null])).toEqual([
        ['first', 'published', null],
        ['second', 'draft', 'INTERNAL'],
        ['third', 'draft', 'INTERNAL'],
      ]);
      expect(JSON.stringify(outcomes)).not.toContain('publication refused');
      const rows = await controlPlane<{ slug: string; status: string }>(
        stack,
        "SELECT slug, status FROM exercises.exercises WHERE slug IN ('first', 'second', 'third') ORDER BY slug",
      );
      expect(rows).toEqual([
        { slug: 'first', status: 'published' },
        { slug: 'second', status: 'draft' },
        { slug: 'third', status: 'draft' },
      ]);
    } finally {
      await controlPlane(
        stack,
        'DROP TRIGGER refuse_second ON exercises.publications; DROP FUNCTION public.refuse_second()',
      );
    }
  });
});
