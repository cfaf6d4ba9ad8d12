import type { AuthoredExercise, MutationReport } from '@taidon/contracts';
import type { AuditSink } from '@taidon/kit';
import type pg from 'pg';
import type { ThrowawayQueries } from '../../clients/sql-runner.js';
import { ExercisesError } from '../../errors.js';
import type { ExerciseMetrics } from '../../metrics.js';
import { publish, storeReport } from '../../store/exercises.js';
import { publicationVersion, withPublicationLock } from '../../store/publication.js';
import { holdPublicationLayers } from '../publication-layers.js';
import { type MeasureSettings, measureExercise } from '../publish.js';
import { measureWriteExercise } from '../write.js';

/** What publishing one exercise needs. */
export interface PublishOneDeps {
  pool: pg.Pool;
  grader: ThrowawayQueries;
  metrics: ExerciseMetrics;
  audit?: AuditSink;
}

/** Where a publication's layers that could not be held are told (they stay cached; attempts are slower). */
export type HoldWarning = (error: unknown) => void;

/**
 * Measures one stored exercise and publishes it when its kill score reaches
 * its minimum: the one way an exercise is published, by its route and by a
 * pack. The query or the write measure by its kind, the mutants counted by
 * result; below the minimum the report is kept and EXERCISES_KILL_SCORE_TOO_LOW
 * thrown with it; else a publication with its content, its layers held
 * pinned and warm (ADR 0044) and an `exercise-published` event. Other
 * refusals (EXERCISES_REFERENCE_FAILED, …) are thrown as the measure throws
 * them. The caller counts the publish itself (`observed`), with its own checks.
 */
export async function measureAndPublish(
  deps: PublishOneDeps,
  exercise: AuthoredExercise,
  settings: MeasureSettings,
  onHoldError: HoldWarning,
): Promise<{ publishedAt: Date; report: MutationReport }> {
  // The publication as the measure found it: an unpublish or another publish meanwhile wins over this one.
  const before = await publicationVersion(deps.pool, exercise.id);
  const measured = {
    setupSql: exercise.setup.sql,
    solution: exercise.solution,
    datasets: exercise.datasets,
    compare: exercise.compare,
    equivalentMutants: exercise.equivalentMutants,
  };
  const { report, references, layerKeys } =
    exercise.kind === 'write'
      ? await measureWriteExercise(deps.grader, measured, settings)
      : await measureExercise(deps.grader, measured, settings);
  const counted = (result: string, n: number) => {
    if (n > 0) deps.metrics.mutants.inc({ result }, n);
  };
  counted('killed', report.killed);
  counted('survived', report.survivors.length);
  counted('stillborn', report.stillborn);
  counted('equivalent', report.equivalent);
  counted('unmeasured', report.unmeasured);
  if (report.score < exercise.minKillScore) {
    await storeReport(deps.pool, exercise.id, report);
    throw new ExercisesError(
      'EXERCISES_KILL_SCORE_TOO_LOW',
      `The datasets kill ${report.killed} of ${report.killed + report.survivors.length} counted mutants (score ${report.score.toFixed(2)}); publishing needs ${exercise.minKillScore}.`,
      { details: { score: report.score, minKillScore: exercise.minKillScore, report } },
    );
  }
  const { title, task, kind, setup, solution, datasets, compare } = exercise;
  // The row, then the layers held, under the exercise's publication lock: an unpublish waits for both, and
  // the version check refuses a publish whose exercise was unpublished (or published again) while measured.
  const publishedAt = await withPublicationLock(deps.pool, exercise.id, async () => {
    const now = await publicationVersion(deps.pool, exercise.id);
    if (!before || !now || now.status !== before.status || now.version !== before.version) {
      throw new ExercisesError(
        'EXERCISES_PUBLICATION_CHANGED',
        'The exercise was unpublished or published again while this publish measured it; nothing was published.',
        { details: { status: now?.status ?? null } },
      );
    }
    const at = await publish(deps.pool, exercise.id, settings.as.accountId, report, references, {
      title,
      task,
      kind,
      setup,
      solution,
      datasets,
      compare,
    });
    // A hold that fails costs attempts their speed, not their answers (the states stay cached under their keys).
    await holdPublicationLayers(deps.grader, exercise.id, layerKeys, settings.as.requestId).catch(onHoldError);
    return at;
  });
  deps.audit?.record({
    action: 'exercise-published',
    accountId: settings.as.accountId,
    target: exercise.id,
    ...(settings.as.requestId ? { requestId: settings.as.requestId } : {}),
    detail: { slug: exercise.slug, mutants: report.mutants, killed: report.killed, score: report.score },
  });
  return { publishedAt, report };
}
