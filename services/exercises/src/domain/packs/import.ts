import {
  type CreateExercisePackRequest,
  type ExercisePackResult,
  MAX_PACK_EXERCISES,
  MAX_PACK_TEXT_BYTES,
  type PackExerciseOutcome,
} from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import { datasetTail, type ThrowawayQueries } from '../../clients/sql-runner.js';
import { ExercisesError } from '../../errors.js';
import { observed } from '../../metrics.js';
import { selectExercise } from '../../store/exercises.js';
import { insertPack } from '../../store/packs.js';
import { validateExercise } from '../authoring.js';
import type { MeasureSettings } from '../publish.js';
import { type HoldWarning, measureAndPublish, type PublishOneDeps } from './publish-one.js';

/** What importing a pack needs. */
export interface PackDeps extends PublishOneDeps {
  settings: Omit<MeasureSettings, 'as' | 'budgetMs'> & { budgetMs: number };
  /** Wall-clock budget of all the publishes of one pack; exercises not reached by then stay drafts. */
  packBudgetMs: number;
  /** Where a publication's layers that could not be held are told. */
  onHoldError: HoldWarning;
  /** Where an exercise's publish that failed other than by a refusal is told (the pack answers it INTERNAL). */
  onPublishError?: (error: unknown, exerciseId: string) => void;
}

/** The pack's text in bytes: what its bound counts. */
function textBytes(pack: CreateExercisePackRequest): number {
  let bytes = Buffer.byteLength(pack.setup.sql);
  for (const e of pack.exercises) {
    bytes += Buffer.byteLength(e.task) + Buffer.byteLength(e.solution) + Buffer.byteLength(e.title);
    for (const d of e.datasets ?? []) bytes += Buffer.byteLength(d.sql);
  }
  return bytes;
}

/**
 * The pack's bounds and names, checked before anything runs: at most
 * MAX_PACK_EXERCISES exercises and MAX_PACK_TEXT_BYTES of text
 * (EXERCISES_PACK_TOO_LARGE), slugs unique in the pack and dataset names in
 * each exercise (EXERCISES_PACK_SLUGS), every reference one SELECT that
 * parses (its refusal with the exercise's `slug` added).
 */
export function checkPack(pack: CreateExercisePackRequest): void {
  if (pack.exercises.length > MAX_PACK_EXERCISES) {
    throw new ExercisesError(
      'EXERCISES_PACK_TOO_LARGE',
      `A pack holds at most ${MAX_PACK_EXERCISES} exercises; this one has ${pack.exercises.length}.`,
      { details: { limit: MAX_PACK_EXERCISES, count: pack.exercises.length } },
    );
  }
  const bytes = textBytes(pack);
  if (bytes > MAX_PACK_TEXT_BYTES) {
    throw new ExercisesError(
      'EXERCISES_PACK_TOO_LARGE',
      `A pack holds at most ${MAX_PACK_TEXT_BYTES} bytes of text; this one has ${bytes}.`,
      { details: { limitBytes: MAX_PACK_TEXT_BYTES, bytes } },
    );
  }
  const slugs = new Set<string>();
  for (const exercise of pack.exercises) {
    if (slugs.has(exercise.slug)) {
      throw new ExercisesError('EXERCISES_PACK_SLUGS', `Two exercises of the pack are named ${exercise.slug}.`, {
        details: { slug: exercise.slug },
      });
    }
    slugs.add(exercise.slug);
    const names = new Set<string>();
    for (const dataset of exercise.datasets ?? []) {
      if (names.has(dataset.name)) {
        throw new ExercisesError(
          'EXERCISES_PACK_SLUGS',
          `Two hidden datasets of ${exercise.slug} are named ${dataset.name}.`,
          { details: { slug: exercise.slug, dataset: dataset.name } },
        );
      }
      names.add(dataset.name);
    }
    try {
      // As POST /exercises takes one: a query's reference one SELECT, a write's statements and check query.
      validateExercise({ ...exercise, setup: pack.setup });
    } catch (error) {
      if (error instanceof ExercisesError) {
        throw new ExercisesError(error.code, `${exercise.slug}: ${error.message}`, {
          details: { ...error.details, slug: exercise.slug },
        });
      }
      throw error;
    }
  }
}

/**
 * The pack's start state, found or built once on sql-runner (a tail of
 * `setup.sql` alone, the tail every exercise of the pack has): one
 * throwaway query builds its layer under its key, so the pack is refused
 * (EXERCISES_SETUP_FAILED, `dataset: start`) before anything is stored, and
 * every later publish and attempt starts from that layer.
 */
async function startState(
  grader: ThrowawayQueries,
  setupSql: string,
  as: MeasureSettings['as'],
): Promise<ExercisePackResult['startState']> {
  try {
    const answer = await grader.run({ tail: datasetTail(setupSql), statements: [{ sql: 'SELECT 1' }] }, as);
    return { layerKey: answer.layerKey, source: answer.source };
  } catch (error) {
    if (error instanceof DomainError && error.code === 'SQL_RUNNER_THROWAWAY_TAIL_FAILED') {
      const d = error.details;
      throw new ExercisesError('EXERCISES_SETUP_FAILED', `The pack's start state fails: ${error.message}`, {
        details: {
          dataset: 'start',
          sqlstate: d.sqlstate,
          message: d.message ?? error.message,
          line: d.line,
          column: d.column,
        },
      });
    }
    throw error;
  }
}

/**
 * Imports a pack (issue 18): checked, its start state built once, every
 * exercise stored as a draft of the caller in one transaction; with
 * `publish`, each then measured and published in order (ADR 0036's
 * measure, as one publish does) within `packBudgetMs`, each outcome its
 * kill score or the code that refused it.
 */
export async function importPack(
  deps: PackDeps,
  pack: CreateExercisePackRequest,
  as: MeasureSettings['as'],
): Promise<ExercisePackResult> {
  checkPack(pack);
  const state = await startState(deps.grader, pack.setup.sql, as);
  const stored = await insertPack(deps.pool, as.accountId, pack, state.layerKey);
  const outcomes: PackExerciseOutcome[] = stored.exercises.map((e) => ({ ...e, status: 'draft' }));
  if (!pack.publish) return { id: stored.id, slug: pack.slug, startState: state, exercises: outcomes };
  const started = performance.now();
  let stoppedBy: { code: string; message: string } | undefined;
  for (const outcome of outcomes) {
    const leftMs = deps.packBudgetMs - (performance.now() - started);
    if (stoppedBy) {
      outcome.refused = {
        code: stoppedBy.code,
        message: `Not measured: an earlier publish of the pack was refused with ${stoppedBy.code} (${stoppedBy.message}); publish it on its own.`,
      };
      continue;
    }
    if (leftMs <= 0) {
      outcome.refused = {
        code: 'EXERCISES_PACK_BUDGET_SPENT',
        message: `Not measured: the pack's publish budget of ${deps.packBudgetMs} ms was spent; publish it on its own.`,
      };
      continue;
    }
    const { stop, ...published } = await publishOne(deps, outcome.id, {
      ...deps.settings,
      budgetMs: Math.min(deps.settings.budgetMs, leftMs),
      as,
    });
    Object.assign(outcome, published);
    // The grader busy or away: the next exercises would be refused the same way, so they are not tried.
    if (stop && outcome.refused) stoppedBy = outcome.refused;
  }
  return {
    id: stored.id,
    slug: pack.slug,
    startState: state,
    exercises: outcomes,
    publishMs: Math.round(performance.now() - started),
  };
}

/** One exercise's publish as the pack reports it: published with its score, or a draft with why. */
async function publishOne(
  deps: PackDeps,
  id: string,
  settings: MeasureSettings,
): Promise<Partial<PackExerciseOutcome> & { stop?: boolean }> {
  const exercise = await selectExercise(deps.pool, id);
  if (!exercise) throw new Error(`the pack's exercise ${id} vanished`);
  try {
    const { report } = await observed(
      deps.metrics.publishes,
      deps.metrics.publishSeconds,
      () => 'published',
      () => measureAndPublish(deps, exercise, settings, deps.onHoldError),
    );
    return {
      status: 'published',
      score: report.score,
      mutants: report.mutants,
      killed: report.killed,
      survivors: report.survivors.length,
    };
  } catch (error) {
    // Every failure is this exercise's refusal: the drafts are stored and earlier exercises published, so
    // throwing would lose their outcomes (a retry of the import is 409). One that is not a DomainError is
    // logged and answered INTERNAL, and stops the pack's publish as a busy or failing grader does.
    if (!(error instanceof DomainError)) {
      deps.onPublishError?.(error, id);
      return { stop: true, refused: { code: 'INTERNAL', message: 'An internal error occurred.' } };
    }
    const report = error.details.report as
      | { score: number; mutants: number; killed: number; survivors: unknown[] }
      | undefined;
    return {
      // After the grader busy (429, 503) or failing (5xx), the pack's publish stops.
      stop: error.statusCode === 429 || error.statusCode >= 500,
      refused: { code: error.code, message: error.message },
      ...(report
        ? { score: report.score, mutants: report.mutants, killed: report.killed, survivors: report.survivors.length }
        : {}),
    };
  }
}
