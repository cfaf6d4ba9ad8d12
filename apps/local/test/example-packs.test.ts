import { fileURLToPath } from 'node:url';
import { createLogger } from '@taidon/kit';
import { captureLogger } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PACKS_DIR, loadExamplePacks } from '../src/launcher/example-packs.js';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

// What `npm start` does with the example packs (services/exercises/packs): loaded as an admin's, every exercise
// published after its measure on the platform's throwaway clones, and a second start doubles nothing. Slow: it
// publishes the whole bookshop pack (18 exercises, 3 datasets each), a few minutes on two loaded cores.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);

describe('the example packs npm start loads (issue 18)', () => {
  let stack: TestStack;
  const endpoint = (name: string, baseUrl: string) => ({
    name,
    baseUrl,
    serviceToken: stack.serviceToken,
    timeoutMs: 300_000,
  });
  const load = (log = createLogger({ service: 'launcher', level: 'warn' })) =>
    loadExamplePacks(
      {
        exercises: endpoint('exercises', stack.services.exercisesUrl),
        userProfile: endpoint('user-profile', stack.services.userProfileUrl),
      },
      { packsDir: fileURLToPath(EXAMPLE_PACKS_DIR) },
      log,
    );
  const bookshop = () =>
    controlPlane<{ slug: string; status: string; author_id: string; publications: number }>(
      stack,
      `SELECT e.slug, e.status, e.author_id, (SELECT count(*)::int FROM exercises.publications p WHERE p.exercise_id = e.id) AS publications
         FROM exercises.exercises e JOIN exercises.packs k ON k.id = e.pack_id WHERE k.slug = 'bookshop' ORDER BY e.pack_position`,
    );

  beforeAll(async () => {
    stack = await startTestStack();
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it('loads nothing while the platform has no admin, and says why', async () => {
    const logs = captureLogger('launcher');
    expect(await load(logs.logger)).toEqual([]);
    expect(logs.lines().some((l) => l.includes('the platform has no admin yet'))).toBe(true);
    expect(await bookshop()).toEqual([]);
  });

  it('imports the bookshop pack as the admin’s and publishes every exercise with its kill score; a second start doubles nothing', async () => {
    const admin = await accountWithToken(stack, 'admin');
    const begin = performance.now();
    const [first] = await load();
    const loadMs = Math.round(performance.now() - begin);
    expect(first).toMatchObject({ slug: 'bookshop', outcome: 'imported' });
    expect(first?.exercises.length).toBeGreaterThanOrEqual(15);
    expect(first?.exercises.filter((e) => e.status !== 'published')).toEqual([]);
    const rows = await bookshop();
    expect(rows.map((r) => [r.status, r.author_id, r.publications])).toEqual(
      rows.map(() => ['published', admin.id, 1]),
    );
    process.stdout.write(
      `bookshop loaded and published in ${loadMs} ms:\n${first?.exercises.map((e) => `  | ${e.slug} | ${e.mutants} | ${e.killed} | ${e.survivors} | ${e.score?.toFixed(2)} |`).join('\n')}\n`,
    );
    for (const e of first?.exercises ?? []) expect(e.score).toBeGreaterThanOrEqual(0.8);

    const [second] = await load();
    expect(second).toMatchObject({ slug: 'bookshop', outcome: 'existing' });
    expect(second?.exercises.every((e) => e.status === 'published' && e.score === undefined)).toBe(true);
    expect(await bookshop()).toEqual(rows);

    // A learner sees the pack in the catalog and solves one of its exercises.
    const learner = await accountWithToken(stack, 'learner');
    const catalog = await api(stack, 'GET', '/api/exercises', learner.token);
    const cheap = catalog.body.find((e: { slug: string }) => e.slug === 'cheap-books');
    expect(cheap?.status).toBe('published');
    const attempt = await api(stack, 'POST', `/api/exercises/${cheap.id}/attempts`, learner.token, {
      sql: 'SELECT title, price FROM books WHERE price < 10 ORDER BY price, title',
    });
    expect([attempt.status, attempt.body.passed], JSON.stringify(attempt.body)).toEqual([200, true]);
  }, 900_000);
});
