import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { CreateExercisePackRequest } from '@taidon/contracts';
import { createPool } from '@taidon/kit';
import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPackDirectory } from '../../src/domain/packs/directory.js';
import { packFromFiles } from '../../src/domain/packs/files.js';
import { migrateExercises } from '../../src/migrate.js';
import { insertExercise, listExercises } from '../../src/store/exercises.js';
import { insertPack } from '../../src/store/packs.js';

// A pack's exercises are named within their pack (migration 005): an instructor who has a `cities` of their
// own no longer makes the example pack, which has one too, refused at every start. The store on a real
// PostgreSQL database, migrated from nothing.

const BOOKSHOP = fileURLToPath(new URL('../../packs/bookshop', import.meta.url));

describe('slugs of a pack are its own', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const instructor = randomUUID();
  const admin = randomUUID();
  let bookshop: CreateExercisePackRequest;

  beforeAll(async () => {
    db = await createTestDatabase('ex_slugs');
    pool = createPool(db.url, { applicationName: 'exercises-test' });
    await migrateExercises(pool);
    bookshop = packFromFiles(await readPackDirectory(BOOKSHOP));
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  /** A standalone exercise (POST /exercises) named `slug`. */
  const own = (slug: string) =>
    insertExercise(pool, instructor, {
      slug,
      title: `My ${slug}`,
      task: 'List the cities.',
      setup: { sql: 'CREATE TABLE cities (name text);' },
      solution: 'SELECT name FROM cities',
    });

  it("imports the example pack beside an instructor's own exercises of the same slugs", async () => {
    const slugs = bookshop.exercises.map((e) => e.slug);
    expect(slugs).toEqual(expect.arrayContaining(['cities', 'cheap-books']));
    const mine = await own('cities');
    await own('cheap-books');

    const pack = await insertPack(pool, admin, bookshop, 'layer-key-of-the-start-state');
    expect(pack.exercises.map((e) => e.slug)).toEqual(slugs);

    const { rows } = await pool.query<{ slug: string; pack: string | null; author_id: string }>(
      `SELECT e.slug, k.slug AS pack, e.author_id FROM exercises e LEFT JOIN packs k ON k.id = e.pack_id
        WHERE e.slug = 'cities' ORDER BY k.slug NULLS FIRST`,
    );
    expect(rows).toEqual([
      { slug: 'cities', pack: null, author_id: instructor },
      { slug: 'cities', pack: bookshop.slug, author_id: admin },
    ]);
    // The catalog tells them apart by their pack (the launcher finds the pack's own by it).
    const catalog = (await listExercises(pool, 'all', 500)).filter((e) => e.slug === 'cities');
    expect(catalog).toHaveLength(2);
    expect(catalog[0]).toMatchObject({ id: mine.id, slug: 'cities' });
    expect(catalog[0]).not.toHaveProperty('pack');
    expect(catalog[1]).toMatchObject({ id: pack.exercises[slugs.indexOf('cities')]?.id, pack: bookshop.slug });
  });

  it('keeps one namespace outside packs, and a pack imported once', async () => {
    await expect(own('cities')).rejects.toMatchObject({ code: 'EXERCISES_SLUG_TAKEN', details: { slug: 'cities' } });
    await expect(insertPack(pool, admin, bookshop, 'k')).rejects.toMatchObject({
      code: 'EXERCISES_PACK_EXISTS',
      details: { slug: bookshop.slug, yours: true },
    });
    // Whose it is: the example-pack loader leaves another account's pack of its slug alone.
    await expect(insertPack(pool, instructor, bookshop, 'k')).rejects.toMatchObject({
      code: 'EXERCISES_PACK_EXISTS',
      details: { yours: false },
    });
    // Another pack may name its exercises as the bookshop does.
    const other = await insertPack(pool, instructor, { ...bookshop, slug: 'bookshop-copy', title: 'Copy' }, 'k');
    expect(other.exercises).toHaveLength(bookshop.exercises.length);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM exercises WHERE slug = 'cities'");
    expect(rows[0]?.n).toBe(3);
  });

  it('refuses one slug twice within a pack (EXERCISES_SLUG_TAKEN), storing nothing of it', async () => {
    const [first] = bookshop.exercises;
    if (!first) throw new Error('the bookshop has exercises');
    const twice = { ...bookshop, slug: 'twice', exercises: [first, first] };
    await expect(insertPack(pool, admin, twice, 'k')).rejects.toMatchObject({
      code: 'EXERCISES_SLUG_TAKEN',
      details: { slug: first.slug },
    });
    const { rows } = await pool.query("SELECT 1 FROM packs WHERE slug = 'twice'");
    expect(rows).toEqual([]);
  });
});
