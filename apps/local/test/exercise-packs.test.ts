import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

// Issue 18's packs through the whole platform: POST /api/exercise-packs imports many exercises on ONE start state,
// built once for all of them (sql-runner's replayed steps say so), and publishes them when asked.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);

/** The shared start state: 3 statements, so 3 replayed steps when (and only when) it is built. */
const SETUP = `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL, tag text);
INSERT INTO items SELECT g, 'item ' || g, (g * 37) % 100, CASE WHEN g % 3 = 0 THEN NULL ELSE 't' || (g % 4) END
  FROM generate_series(1, 60) AS g;
ANALYZE items;
`;
const SETUP_STEPS = 3;

/** Exercise `i` of a pack: items above a price `i`, cheapest first. */
const exerciseOf = (slug: string, i: number, extra: Record<string, unknown> = {}) => ({
  slug,
  title: `Items above ${i}`,
  task: `List the id and name of items priced above **${i}**, cheapest first, then by id.`,
  solution: `SELECT id, name FROM items WHERE price > ${i} ORDER BY price, id`,
  ...extra,
});

const pack = (slug: string, exercises: unknown[], extra: Record<string, unknown> = {}) => ({
  slug,
  title: `Pack ${slug}`,
  setup: { sql: SETUP },
  exercises,
  ...extra,
});

describe('exercise packs through the whole platform (issue 18)', () => {
  let stack: TestStack;
  let instructor: { id: string; token: string };
  let learner: { id: string; token: string };

  beforeAll(async () => {
    stack = await startTestStack();
    instructor = await accountWithToken(stack, 'instructor');
    learner = await accountWithToken(stack, 'learner');
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  /**
   * The instances sql-runner built throwaway states on (each a session of its own, `throwaway-…`; the clones that
   * run SQL have none), with the layer each started from: building a start state starts from the template's,
   * building a hidden dataset from the start state's layer. Counting them counts the builds.
   */
  const builders = () =>
    controlPlane<{ id: string; layer_key: string | null }>(
      stack,
      "SELECT id, layer_key FROM env_manager.instances WHERE owner_role = 'throwaway' AND session_id LIKE 'throwaway-%'",
    );
  const buildersAfter = async (before: { id: string }[]) =>
    (await builders()).filter((b) => !before.some((o) => o.id === b.id));
  const exercisesOfPack = (slug: string) =>
    controlPlane<{ slug: string; status: string; setup_sql: string }>(
      stack,
      `SELECT e.slug, e.status, e.setup_sql FROM exercises.exercises e JOIN exercises.packs p ON p.id = e.pack_id
        WHERE p.slug = $1 ORDER BY e.pack_position`,
      [slug],
    );

  it('refuses a pack to learners (403 GATEWAY_FORBIDDEN), and past its bounds or with twin slugs with 422 before anything runs', async () => {
    const refused = await api(stack, 'POST', '/api/exercise-packs', learner.token, pack('p0', [exerciseOf('p0-1', 1)]));
    expect([refused.status, refused.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);

    const before = await builders();
    const many = Array.from({ length: 101 }, (_, i) => exerciseOf(`big-${i}`, i));
    const tooMany = await api(stack, 'POST', '/api/exercise-packs', instructor.token, pack('big', many));
    expect([tooMany.status, tooMany.body.code, tooMany.body.limit, tooMany.body.count]).toEqual([
      422,
      'EXERCISES_PACK_TOO_LARGE',
      100,
      101,
    ]);
    const twins = await api(
      stack,
      'POST',
      '/api/exercise-packs',
      instructor.token,
      pack('twins', [exerciseOf('twin', 1), exerciseOf('twin', 2)]),
    );
    expect([twins.status, twins.body.code, twins.body.slug]).toEqual([422, 'EXERCISES_PACK_SLUGS', 'twin']);
    const badReference = await api(
      stack,
      'POST',
      '/api/exercise-packs',
      instructor.token,
      pack('bad', [exerciseOf('bad-1', 1), exerciseOf('bad-2', 2, { solution: 'DELETE FROM items' })]),
    );
    expect([badReference.status, badReference.body.code, badReference.body.slug]).toEqual([
      422,
      'EXERCISES_REFERENCE_NOT_A_QUERY',
      'bad-2',
    ]);
    const badSetup = await api(stack, 'POST', '/api/exercise-packs', instructor.token, {
      ...pack('bad-setup', [exerciseOf('bad-setup-1', 1)]),
      setup: { sql: 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1, 2);\n' },
    });
    expect([badSetup.status, badSetup.body.code, badSetup.body.dataset, badSetup.body.line]).toEqual([
      422,
      'EXERCISES_SETUP_FAILED',
      'start',
      2,
    ]);
    // Nothing stored; the refused packs of a valid setup started nothing (the bad setup's builder alone ran).
    expect(await controlPlane(stack, 'SELECT slug FROM exercises.packs')).toEqual([]);
    expect(await controlPlane(stack, "SELECT slug FROM exercises.exercises WHERE slug ~ '^(big|twin|bad)'")).toEqual(
      [],
    );
    expect(await buildersAfter(before)).toHaveLength(1);
  }, 120_000);

  it('imports a pack of 70 exercises on one start state, built once for all of them', async () => {
    const before = await builders();
    const exercises = Array.from({ length: 70 }, (_, i) => exerciseOf(`seventy-${i + 1}`, i + 1));
    const begin = performance.now();
    const imported = await api(stack, 'POST', '/api/exercise-packs', instructor.token, pack('seventy', exercises));
    const importMs = Math.round(performance.now() - begin);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.startState.source).toBe('built');
    expect(imported.body.exercises).toHaveLength(70);
    expect(imported.body.exercises.every((e: { status: string }) => e.status === 'draft')).toBe(true);
    // The effect: one instance built the start state (from the template or its empty layer), not one per exercise.
    const built = await buildersAfter(before);
    expect(built).toHaveLength(1);
    expect(built[0]?.layer_key).not.toBe(imported.body.startState.layerKey);
    const stored = await exercisesOfPack('seventy');
    expect(stored.map((e) => e.slug)).toEqual(exercises.map((e) => e.slug));
    expect(new Set(stored.map((e) => e.setup_sql))).toEqual(new Set([SETUP]));
    const layer = await controlPlane<{ step_count: number }>(
      stack,
      'SELECT step_count FROM snapshot_cache.layers WHERE key = $1',
      [imported.body.startState.layerKey],
    );
    expect(layer).toEqual([{ step_count: SETUP_STEPS }]);
    // The same slug again: the pack is there already, nothing doubled.
    const again = await api(stack, 'POST', '/api/exercise-packs', instructor.token, pack('seventy', exercises));
    expect([again.status, again.body.code, again.body.id]).toEqual([409, 'EXERCISES_PACK_EXISTS', imported.body.id]);
    expect(await exercisesOfPack('seventy')).toHaveLength(70);
    process.stdout.write(`70-exercise pack imported in ${importMs} ms (start state built once)\n`);
  }, 180_000);

  it('publishes a pack when asked: each exercise its kill score or why it stayed a draft, the shared state not rebuilt', async () => {
    const before = await builders();
    const [{ key }] = (await controlPlane<{ key: string }>(
      stack,
      "SELECT layer_key AS key FROM exercises.packs WHERE slug = 'seventy'",
    )) as [{ key: string }];
    /** A hidden dataset with a tie on the price and no rows above 90 kills what the start state alone cannot. */
    const ties = {
      name: 'ties',
      sql: 'UPDATE items SET price = 50 WHERE id IN (2, 5);\nDELETE FROM items WHERE price > 90;\n',
    };
    const published = await api(
      stack,
      'POST',
      '/api/exercise-packs',
      instructor.token,
      pack(
        'three',
        [
          exerciseOf('three-ok', 40, { datasets: [ties] }),
          exerciseOf('three-weak', 40, { minKillScore: 1 }),
          exerciseOf('three-broken', 40, {
            datasets: [{ name: 'renamed', sql: 'ALTER TABLE items RENAME COLUMN price TO cost;\n' }],
          }),
        ],
        { publish: true },
      ),
    );
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    expect(published.body.startState).toEqual({ layerKey: key, source: 'layer' });
    const [ok, weak, broken] = published.body.exercises;
    expect(ok).toMatchObject({ slug: 'three-ok', status: 'published' });
    expect(ok.score).toBeGreaterThan(0.5);
    expect(ok.mutants).toBeGreaterThan(5);
    expect(weak).toMatchObject({
      slug: 'three-weak',
      status: 'draft',
      refused: { code: 'EXERCISES_KILL_SCORE_TOO_LOW' },
    });
    expect(weak.score).toBeLessThan(1);
    expect(broken).toMatchObject({
      slug: 'three-broken',
      status: 'draft',
      refused: { code: 'EXERCISES_REFERENCE_FAILED' },
    });
    expect((await exercisesOfPack('three')).map((e) => e.status)).toEqual(['published', 'draft', 'draft']);
    // The start state was not built again: the two hidden datasets were, each on a clone of its layer.
    expect(await buildersAfter(before)).toEqual([
      { id: expect.any(String), layer_key: key },
      { id: expect.any(String), layer_key: key },
    ]);
    // A learner solves a published exercise of the pack like any other.
    const attempt = await api(stack, 'POST', `/api/exercises/${ok.id}/attempts`, learner.token, {
      sql: 'SELECT id, name FROM items WHERE price > 40 ORDER BY price, id',
    });
    expect([attempt.status, attempt.body.passed]).toEqual([200, true]);
    process.stdout.write(
      `3-exercise pack published in ${published.body.publishMs} ms: ${published.body.exercises
        .map(
          (e: { slug: string; score?: number; refused?: { code: string } }) =>
            `${e.slug} ${e.score ?? ''} ${e.refused?.code ?? ''}`,
        )
        .join('; ')}\n`,
    );
  }, 300_000);
  it('imports the exercises authored in a project at a commit, its init/ and seed/ as the start state', async () => {
    const created = await api(stack, 'POST', '/api/projects', instructor.token, {
      name: 'library',
      template: 'example',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const project = created.body.id as string;
    const save = async (path: string, text: string) => {
      const answer = await fetch(`${stack.url}/api/projects/${project}/files/${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${instructor.token}`, 'content-type': 'text/plain; charset=utf-8' },
        body: text,
      });
      expect(answer.status, await answer.clone().text()).toBe(201);
      return (await answer.json()) as { commit: string };
    };
    await save('exercises/pack.yaml', 'slug: library\ntitle: The library\n');
    await save('exercises/datasets/nobody.sql', "INSERT INTO authors VALUES (9, 'Anonymous', NULL);\n");
    await save('exercises/old-books/exercise.yaml', 'title: Old books\ndatasets: [nobody]\n');
    await save('exercises/old-books/task.md', 'List the titles published before 1970, oldest first.\n');
    const first = await save(
      'exercises/old-books/solution.sql',
      'SELECT title FROM books WHERE published < 1970 ORDER BY published, title;\n',
    );
    // A later commit breaks the pack (no task): the import at the earlier commit still reads the good one.
    await save('exercises/broken/exercise.yaml', 'title: Broken\n');
    const later = await api(stack, 'POST', '/api/exercise-packs', instructor.token, { project });
    expect([later.status, later.body.code, later.body.path]).toEqual([
      422,
      'EXERCISES_PACK_FILE',
      'exercises/broken/task.md',
    ]);
    const imported = await api(stack, 'POST', '/api/exercise-packs', instructor.token, {
      project,
      ref: first.commit,
      publish: true,
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.source).toEqual({ project, commit: first.commit });
    expect(imported.body.exercises).toMatchObject([{ slug: 'old-books', status: 'published' }]);
    const [stored] = await controlPlane<{ setup_sql: string; datasets: number }>(
      stack,
      `SELECT e.setup_sql, (SELECT count(*)::int FROM exercises.exercise_datasets d WHERE d.exercise_id = e.id) AS datasets
         FROM exercises.exercises e WHERE e.slug = 'old-books'`,
    );
    expect(stored?.setup_sql).toMatch(
      /^-- init\/01-schema\.sql\n[\s\S]*-- seed\/01-authors\.sql\n[\s\S]*-- seed\/02-books\.sql\n/,
    );
    expect(stored?.datasets).toBe(1);
    // Another account's project is not found; the caller's own project is read as the caller.
    const other = await accountWithToken(stack, 'instructor');
    const stranger = await api(stack, 'POST', '/api/exercise-packs', other.token, { project });
    expect([stranger.status, stranger.body.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
  }, 300_000);
});
