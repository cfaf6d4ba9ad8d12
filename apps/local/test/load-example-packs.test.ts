import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

// The chart's example-packs Job (`node apps/local/dist/load-example-packs.js`, ADR 0050) against the whole
// platform: with no admin it ends at once saying so; started before the first admin exists, it waits for one,
// then imports the bookshop as that admin's and publishes every exercise, beside an instructor's own `cities`
// (a slug the pack has too: a pack's slugs are its own). Slow: it publishes the whole pack.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);

const ENTRY = fileURLToPath(new URL('../dist/load-example-packs.js', import.meta.url));
const execFileP = promisify(execFile);

describe('the example-packs Job (the chart)', () => {
  let stack: TestStack;
  const env = (waitSeconds: number) => ({
    PATH: process.env.PATH,
    LOG_LEVEL: 'info',
    SERVICE_TOKEN: stack.serviceToken,
    EXERCISES_URL: stack.services.exercisesUrl,
    USER_PROFILE_URL: stack.services.userProfileUrl,
    EXAMPLE_PACKS_ADMIN_WAIT_SECONDS: String(waitSeconds),
  });
  const bookshop = () =>
    controlPlane<{ slug: string; status: string; author_id: string }>(
      stack,
      `SELECT e.slug, e.status, e.author_id FROM exercises.exercises e JOIN exercises.packs k ON k.id = e.pack_id
        WHERE k.slug = 'bookshop' ORDER BY e.pack_position`,
    );

  beforeAll(async () => {
    stack = await startTestStack();
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  it('ends at once without an admin, loading nothing, and says why', async () => {
    const { stdout } = await execFileP(process.execPath, [ENTRY], { env: env(0), timeout: 60_000 });
    expect(stdout).toContain('the platform has no admin yet');
    expect(await bookshop()).toEqual([]);
  }, 90_000);

  it("waits for the first admin, then loads the bookshop beside an instructor's own cities", async () => {
    const instructor = await accountWithToken(stack, 'instructor');
    const mine = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'cities',
      title: 'My cities',
      task: 'List the cities.',
      setup: { sql: 'CREATE TABLE town (name text);' },
      solution: 'SELECT name FROM town',
    });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);

    const job = spawn(process.execPath, [ENTRY], { env: env(120), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    job.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    job.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => job.on('exit', resolve));
    // The Job is waiting when the first admin appears.
    while (!output.includes('waiting for the platform to have an admin')) await new Promise((r) => setTimeout(r, 200));
    const admin = await accountWithToken(stack, 'admin');
    expect(await exited, output).toBe(0);

    const rows = await bookshop();
    expect(rows.length).toBeGreaterThanOrEqual(15);
    expect(rows.map((r) => [r.status, r.author_id])).toEqual(rows.map(() => ['published', admin.id]));
    expect(rows.map((r) => r.slug)).toContain('cities');
    // The instructor's own cities is untouched, and the catalog tells the two apart by their pack.
    const catalog = await api(stack, 'GET', '/api/exercises', instructor.token);
    const cities = catalog.body.filter((e: { slug: string }) => e.slug === 'cities');
    expect(
      cities.map((e: { id: string; pack?: string; status: string }) => [e.id === mine.body.id, e.pack, e.status]),
    ).toEqual([
      [true, undefined, 'draft'],
      [false, 'bookshop', 'published'],
    ]);
  }, 900_000);
});
