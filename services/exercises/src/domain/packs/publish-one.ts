import type { AuthoredExercise, MutationReport } from '@taidon/contracts';
import type { AuditSink } from '@taidon/kit';
import type pg from 'pg';
import type { ThrowawayQueries } from '../../clients/sql-runner.js';
import { ExercisesError } from '../../errors.js';
import { type ExerciseMetrics, observed } from '../../metrics.js';
import { publish, storeReport } from '../../store/exercises.js';
import { type MeasureSettings, measureExercise } from '../publish.js';

/** What publishing one exercise of a pack needs. */
export interface PublishOneDeps {
  pool: pg.Pool;
  grader: ThrowawayQueries;
  metrics: ExerciseMetrics;
  audit?: AuditSink;
}

/**
 * Measures one stored exercise and publishes it when its kill score reaches
 * its minimum, as `POST /exercises/:id/publish` does (the report kept on a
 * refusal, a publication and an `exercise-published` event on success),
 * counted in the same publish and mutant series. Throws the refusal
 * (EXERCISES_KILL_SCORE_TOO_LOW with the report, EXERCISES_REFERENCE_FAILED, …).
 */
export async function measureAndPublish(
  deps: PublishOneDeps,
  exercise: AuthoredExercise,
  settings: MeasureSettings,
): Promise<{ publishedAt: Date; report: MutationReport }> {
  return observed(
    deps.metrics.publishes,
    deps.metrics.publishSeconds,
    () => 'published',
    async () => {
      const { report, references } = await measureExercise(
        deps.grader,
        {
          setupSql: exercise.setup.sql,
          solution: exercise.solution,
          datasets: exercise.datasets,
          compare: exercise.compare,
          equivalentMutants: exercise.equivalentMutants,
        },
        settings,
      );
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
      const publishedAt = await publish(deps.pool, exercise.id, settings.as.accountId, report, references);
      deps.audit?.record({
        action: 'exercise-published',
        accountId: settings.as.accountId,
        target: exercise.id,
        ...(settings.as.requestId ? { requestId: settings.as.requestId } : {}),
        detail: { slug: exercise.slug, mutants: report.mutants, killed: report.killed, score: report.score },
      });
      return { publishedAt, report };
    },
  );
}
