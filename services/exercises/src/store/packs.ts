import type { CreateExercisePackRequest } from '@taidon/contracts';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import { exerciseKind } from '../domain/authoring.js';
import { ExercisesError } from '../errors.js';
import { insertDatasets, UNIQUE_VIOLATION } from './slug-transaction.js';

/** An exercise of a pack as stored: its id and slug, in the pack's order. */
export interface StoredPackExercise {
  id: string;
  slug: string;
}

/**
 * Stores a pack and every exercise of it as drafts in one transaction: each
 * exercise keeps the pack's setup SQL as its own (the same text, the same
 * tail, the same layer). Its exercises' slugs are the pack's own (unique
 * within the pack, migration 005): an exercise outside it, or in another
 * pack, with the same slug is no conflict. A pack slug already imported is
 * 409 EXERCISES_PACK_EXISTS; nothing is stored then.
 */
export async function insertPack(
  pool: pg.Pool,
  authorId: string,
  pack: CreateExercisePackRequest,
  layerKey: string,
): Promise<{ id: string; exercises: StoredPackExercise[] }> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO packs (slug, title, author_id, layer_key) VALUES ($1, $2, $3, $4) RETURNING id',
      [pack.slug, pack.title, authorId, layerKey],
    );
    const packId = rows[0]?.id as string;
    const exercises: StoredPackExercise[] = [];
    for (const exercise of pack.exercises) {
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO exercises (slug, title, task_md, setup_sql, solution, compare, min_kill_score, equivalent_mutants, author_id, pack_id, pack_position, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
        [
          exercise.slug,
          exercise.title,
          exercise.task,
          pack.setup.sql,
          exercise.solution,
          JSON.stringify(exercise.compare ?? {}),
          exercise.minKillScore ?? 0,
          exercise.equivalentMutants ?? [],
          authorId,
          packId,
          exercises.length + 1,
          exerciseKind(exercise),
        ],
      );
      const id = inserted.rows[0]?.id as string;
      await insertDatasets(client, id, exercise.datasets ?? []);
      exercises.push({ id, slug: exercise.slug });
    }
    return { id: packId, exercises };
  }).catch(async (error: unknown) => {
    throw await translated(pool, error, pack, authorId);
  });
}

/**
 * A unique violation as the slug it hit: the pack's (with the existing pack's id, and whether it is the
 * caller's own: the example-pack loader leaves another account's pack alone as a whole) or an exercise's.
 */
async function translated(
  pool: pg.Pool,
  error: unknown,
  pack: CreateExercisePackRequest,
  authorId: string,
): Promise<unknown> {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return error;
  if (constraint === 'packs_slug_key') {
    const existing = await packBySlug(pool, pack.slug);
    return new ExercisesError('EXERCISES_PACK_EXISTS', `A pack with the slug ${pack.slug} was imported already.`, {
      details: { slug: pack.slug, ...(existing ? { id: existing.id, yours: existing.authorId === authorId } : {}) },
    });
  }
  // Slugs are unique within the pack only, and EXERCISES_PACK_SLUGS refuses a pack naming one twice before
  // anything runs: a violation here is such a pack reaching the store by another way.
  const slugs = pack.exercises.map((e) => e.slug);
  const slug = slugs.find((s, i) => slugs.indexOf(s) !== i);
  return new ExercisesError(
    'EXERCISES_SLUG_TAKEN',
    `An exercise with the slug ${slug ?? 'of one of these'} already exists.`,
    {
      details: slug ? { slug } : {},
    },
  );
}

/** The pack of that slug, with its exercises in their order, or undefined. */
export async function packBySlug(
  pool: pg.Pool,
  slug: string,
): Promise<{ id: string; authorId: string; exercises: (StoredPackExercise & { status: string })[] } | undefined> {
  const { rows } = await pool.query<{ id: string; author_id: string }>(
    'SELECT id, author_id FROM packs WHERE slug = $1',
    [slug],
  );
  const pack = rows[0];
  if (!pack) return undefined;
  const exercises = await pool.query<StoredPackExercise & { status: string }>(
    'SELECT id, slug, status FROM exercises WHERE pack_id = $1 ORDER BY pack_position',
    [pack.id],
  );
  return { id: pack.id, authorId: pack.author_id, exercises: exercises.rows };
}
