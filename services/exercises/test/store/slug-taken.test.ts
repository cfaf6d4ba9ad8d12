import { randomUUID } from 'node:crypto';
import type { CreateExerciseRequest } from '@taidon/contracts';
import { createPool } from '@taidon/kit';
import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateExercises } from '../../src/migrate.js';
import { updateExercise } from '../../src/store/drafts.js';
import { insertExercise, selectExercise } from '../../src/store/exercises.js';

// POST and PUT of an exercise store it in one transaction, a taken slug 409 with nothing of it left behind:
// the store on a real PostgreSQL database, migrated from nothing.

describe('an exercise written with a slug another has', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const author = randomUUID();
  const body = (slug: string, datasets: string[]): CreateExerciseRequest => ({
    slug,
    title: `About ${slug}`,
    task: 'List the cities.',
    setup: { sql: 'CREATE TABLE cities (name text);' },
    solution: 'SELECT name FROM cities',
    datasets: datasets.map((name) => ({ name, sql: `INSERT INTO cities VALUES ('${name}');` })),
  });
  const count = async (sql: string) => (await pool.query<{ n: number }>(sql)).rows[0]?.n;

  beforeAll(async () => {
    db = await createTestDatabase('ex_slug_taken');
    pool = createPool(db.url, { applicationName: 'exercises-test' });
    await migrateExercises(pool);
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('refuses a new exercise 409 and stores none of its datasets', async () => {
    await insertExercise(pool, author, body('cities', ['paris']));
    await expect(insertExercise(pool, author, body('cities', ['rome', 'oslo']))).rejects.toMatchObject({
      code: 'EXERCISES_SLUG_TAKEN',
      statusCode: 409,
      details: { slug: 'cities' },
    });
    expect(await count("SELECT count(*)::int AS n FROM exercises WHERE slug = 'cities'")).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM exercise_datasets')).toBe(1);
  });

  it('refuses a PUT to a taken slug 409 and keeps the exercise as it was; replaces it otherwise', async () => {
    const towns = await insertExercise(pool, author, body('towns', ['lyon']));
    await expect(updateExercise(pool, towns.id, body('cities', ['nice', 'pau']))).rejects.toMatchObject({
      code: 'EXERCISES_SLUG_TAKEN',
      details: { slug: 'cities' },
    });
    expect(await selectExercise(pool, towns.id)).toMatchObject({ slug: 'towns', datasets: [{ name: 'lyon' }] });
    const changed = await updateExercise(pool, towns.id, body('villages', ['nice', 'pau']));
    expect(changed).toMatchObject({ id: towns.id, slug: 'villages', datasets: [{ name: 'nice' }, { name: 'pau' }] });
    expect(await updateExercise(pool, randomUUID(), body('nowhere', []))).toBeUndefined();
  });
});
