import type {
  AuthoredExercise,
  CreateExerciseRequest,
  ExerciseKind,
  ExerciseSummary,
  MutationReport,
  ProgressList,
} from '@taidon/contracts';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import { exerciseKind } from '../domain/authoring.js';
import { inSlugTransaction, insertDatasets } from './slug-transaction.js';

interface ExerciseRow {
  id: string;
  slug: string;
  title: string;
  task_md: string;
  kind: ExerciseKind;
  setup_sql: string;
  solution: string;
  compare: AuthoredExercise['compare'];
  min_kill_score: number;
  equivalent_mutants: string[];
  author_id: string;
  status: 'draft' | 'published';
  created_at: Date;
  published_at: Date | null;
  report: MutationReport | null;
  datasets: { name: string; sql: string }[];
}

const SELECT = `
  SELECT e.*, coalesce(
    (SELECT json_agg(json_build_object('name', d.name, 'sql', d.sql) ORDER BY d.position)
       FROM exercise_datasets d WHERE d.exercise_id = e.id), '[]') AS datasets
  FROM exercises e`;

function toExercise(row: ExerciseRow): AuthoredExercise {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    task: row.task_md,
    kind: row.kind,
    setup: { sql: row.setup_sql },
    solution: row.solution,
    datasets: row.datasets,
    compare: row.compare,
    minKillScore: row.min_kill_score,
    equivalentMutants: row.equivalent_mutants,
    status: row.status,
    authorId: row.author_id,
    createdAt: row.created_at.toISOString(),
    publishedAt: row.published_at ? row.published_at.toISOString() : null,
    report: row.report,
  };
}

/** Stores a new draft with its datasets in one transaction; a slug already used is 409 EXERCISES_SLUG_TAKEN. */
export async function insertExercise(
  pool: pg.Pool,
  authorId: string,
  body: CreateExerciseRequest,
): Promise<AuthoredExercise> {
  const id = await inSlugTransaction(pool, body.slug, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO exercises (slug, title, task_md, setup_sql, solution, compare, min_kill_score, equivalent_mutants, author_id, kind)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [
        body.slug,
        body.title,
        body.task,
        body.setup.sql,
        body.solution,
        JSON.stringify(body.compare ?? {}),
        body.minKillScore ?? 0,
        body.equivalentMutants ?? [],
        authorId,
        exerciseKind(body),
      ],
    );
    const inserted = rows[0]?.id as string;
    await insertDatasets(client, inserted, body.datasets ?? []);
    return inserted;
  });
  return (await selectExercise(pool, id)) as AuthoredExercise;
}

/** The exercise with its datasets, or undefined. */
export async function selectExercise(pool: pg.Pool, id: string): Promise<AuthoredExercise | undefined> {
  const { rows } = await pool.query<ExerciseRow>(`${SELECT} WHERE e.id = $1`, [id]);
  return rows[0] ? toExercise(rows[0]) : undefined;
}

/** Keeps the last measure's report (a refused publish's too), leaving the status as it is. */
export async function storeReport(pool: pg.Pool, id: string, report: MutationReport): Promise<void> {
  await pool.query('UPDATE exercises SET report = $2 WHERE id = $1', [id, JSON.stringify(report)]);
}

/** What a publication fixes of its exercise: a PUT after it changes the draft, not what learners are graded on. */
export type PublishedContent = Pick<
  AuthoredExercise,
  'title' | 'task' | 'kind' | 'setup' | 'solution' | 'datasets' | 'compare'
>;

/** Marks the exercise published with its report and records the publication; answers when. */
export async function publish(
  pool: pg.Pool,
  id: string,
  by: string,
  report: MutationReport,
  references: unknown[],
  /** What is published (title, task, kind, setup, solution, datasets, compare): attempts and learners read it. */
  content?: PublishedContent,
): Promise<Date> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ published_at: Date }>(
      `UPDATE exercises SET status = 'published', published_at = now(), report = $2 WHERE id = $1 RETURNING published_at`,
      [id, JSON.stringify(report)],
    );
    await client.query(
      `INSERT INTO publications (exercise_id, version, published_by, report, reference_results, content)
       SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM publications WHERE exercise_id = $1`,
      [id, by, JSON.stringify(report), JSON.stringify(references), content ? JSON.stringify(content) : null],
    );
    return rows[0]?.published_at as Date;
  });
}

/** The current publication of an exercise: its version and the reference results attempts compare with. */
export async function currentPublication(
  pool: pg.Pool,
  id: string,
): Promise<
  | {
      version: number;
      references: never[];
      /** What was published; undefined for publications older than this record (they read the exercise's row). */
      content?: PublishedContent;
    }
  | undefined
> {
  const { rows } = await pool.query<{ version: number; reference_results: never[]; content: PublishedContent | null }>(
    'SELECT version, reference_results, content FROM publications WHERE exercise_id = $1 ORDER BY version DESC LIMIT 1',
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { version: row.version, references: row.reference_results, ...(row.content ? { content: row.content } : {}) };
}

/** Records an attempt and the account's progress on the exercise (attempts, first solved at); answers its id. */
export async function recordAttempt(
  pool: pg.Pool,
  attempt: {
    exerciseId: string;
    publication: number;
    accountId: string;
    sql: string;
    passed: boolean;
    checks: unknown;
    totalMs: number;
    /** What it returned on every dataset, so wrong answers group by result. */
    verdictDigest?: string;
  },
): Promise<string> {
  // One statement, so one round trip on the attempt's path (ADR 0044): both inserts commit together or not at all.
  const { rows } = await pool.query<{ id: string }>(
    `WITH attempt AS (
       INSERT INTO attempts (exercise_id, publication, account_id, sql, passed, checks, total_ms, verdict_digest)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
     ), progressed AS (
       INSERT INTO progress (account_id, exercise_id, attempts, first_solved_at)
       VALUES ($3, $1, 1, CASE WHEN $5 THEN now() END)
       ON CONFLICT (account_id, exercise_id) DO UPDATE SET
         attempts = progress.attempts + 1,
         first_solved_at = coalesce(progress.first_solved_at, EXCLUDED.first_solved_at)
     )
     SELECT id FROM attempt`,
    [
      attempt.exerciseId,
      attempt.publication,
      attempt.accountId,
      attempt.sql,
      attempt.passed,
      JSON.stringify(attempt.checks),
      attempt.totalMs,
      attempt.verdictDigest ?? null,
    ],
  );
  return rows[0]?.id as string;
}

/** The catalog: published exercises, and drafts of `draftsOf` (an author; `all` for an admin), by slug. */
export async function listExercises(
  pool: pg.Pool,
  draftsOf: string | 'all' | undefined,
  limit: number,
): Promise<ExerciseSummary[]> {
  const { rows } = await pool.query<{
    id: string;
    slug: string;
    title: string;
    status: 'draft' | 'published';
    published_at: Date | null;
    pack: string | null;
  }>(
    // A published exercise is listed by its publication's title: a PUT since changes the draft only.
    `SELECT id, slug, status, published_at, (SELECT k.slug FROM packs k WHERE k.id = e.pack_id) AS pack,
            CASE WHEN status = 'published'
                 THEN coalesce((SELECT p.content->>'title' FROM publications p WHERE p.exercise_id = e.id
                                 ORDER BY p.version DESC LIMIT 1), title)
                 ELSE title END AS title
       FROM exercises e
      WHERE status = 'published' OR $1::text = 'all' OR author_id::text = $1::text
      ORDER BY slug, pack NULLS FIRST LIMIT $2`,
    [draftsOf ?? null, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    slug: r.slug,
    ...(r.pack === null ? {} : { pack: r.pack }),
    title: r.title,
    status: r.status,
    publishedAt: r.published_at ? r.published_at.toISOString() : null,
  }));
}

/** An account's progress, by slug. */
export async function progressOf(pool: pg.Pool, accountId: string, limit: number): Promise<ProgressList> {
  const { rows } = await pool.query<{
    exercise_id: string;
    slug: string;
    title: string;
    attempts: number;
    first_solved_at: Date | null;
  }>(
    // The title learners were given: the current publication's (a PUT since changes the draft only).
    `SELECT p.exercise_id, e.slug, p.attempts, p.first_solved_at,
            coalesce((SELECT u.content->>'title' FROM publications u WHERE u.exercise_id = e.id
                       ORDER BY u.version DESC LIMIT 1), e.title) AS title
       FROM progress p JOIN exercises e ON e.id = p.exercise_id
      WHERE p.account_id = $1 ORDER BY e.slug LIMIT $2`,
    [accountId, limit],
  );
  return rows.map((r) => ({
    exerciseId: r.exercise_id,
    slug: r.slug,
    title: r.title,
    attempts: r.attempts,
    firstSolvedAt: r.first_solved_at ? r.first_solved_at.toISOString() : null,
  }));
}
