import type { MutationReport as ReportBody, SqlRunnerApi } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import { datasetTail, type ThrowawayQueries } from '../clients/sql-runner.js';
import { ExercisesError } from '../errors.js';
import { DEFAULT_MAX_COMPARED_ROWS, type ResultCompareOptions } from './compare/compare-results.js';
import { planReference } from './compare/reference-order.js';
import type { ResultSet } from './compare/result-set.js';
import { DATASETS_AT_ONCE, type GradeBound, gradeEach } from './grade-each.js';
import { type DatasetRunner, measureMutants, QueryFailed } from './mutants/measure.js';

/** Name of the start state among the datasets a publish measures on (hidden ones have their author's names). */
export const START_DATASET = 'start';

/** What a publish measures: the exercise as stored. */
export interface MeasuredExercise {
  setupSql: string;
  solution: string;
  datasets: { name: string; sql: string }[];
  compare: ResultCompareOptions;
  equivalentMutants: string[];
}

/** Who the clones count against, and the publish's bounds. */
export interface MeasureSettings {
  as: { accountId: string; role: string; requestId?: string };
  maxMutants: number;
  mutantTimeoutMs: number;
  budgetMs: number;
}

/** A run's SQL error or time limit, thrown by a dataset runner: what a mutant's error is to the measure (a kill). */
class RunError extends QueryFailed {
  constructor(readonly error: SqlRunnerApi.ThrowawayQueryError) {
    super(error.message, error);
  }
}

/**
 * One dataset's state on sql-runner's throwaway clones: each run is a fresh
 * clone of the tail (the start state, or it and the dataset's SQL), so a
 * mutant that writes changes nothing for the next. The reference's keyed
 * run is kept (publish runs it first, the measure asks again).
 */
function datasetRunner(
  grader: ThrowawayQueries,
  exercise: MeasuredExercise,
  dataset: { name: string; sql: string } | undefined,
  settings: MeasureSettings,
  referenceSql: string,
  onLayer: (layerKey: string) => void,
): DatasetRunner {
  const name = dataset?.name ?? START_DATASET;
  const tail = datasetTail(exercise.setupSql, dataset);
  let reference: Promise<ResultSet> | undefined;
  const run = async (sql: string, timeoutMs?: number): Promise<ResultSet> => {
    let answer: SqlRunnerApi.ThrowawayQueriesResponse;
    try {
      answer = await grader.run({ tail, statements: [{ sql }], ...(timeoutMs ? { timeoutMs } : {}) }, settings.as);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SQL_RUNNER_THROWAWAY_TAIL_FAILED') {
        const d = error.details;
        throw new ExercisesError('EXERCISES_SETUP_FAILED', `The ${name} dataset fails: ${error.message}`, {
          details: {
            dataset: name,
            sqlstate: d.sqlstate,
            message: d.message ?? error.message,
            line: d.line,
            column: d.column,
          },
        });
      }
      throw error;
    }
    onLayer(answer.layerKey);
    const result = answer.results[0];
    if (!result) throw new Error('sql-runner answered no result for the one statement sent');
    if (!result.ok) throw new RunError(result.error);
    return { columns: result.columns, rows: result.rows, ...(result.truncated ? { truncated: true } : {}) };
  };
  return {
    name,
    run: (sql) => {
      if (sql !== referenceSql) return run(sql, settings.mutantTimeoutMs);
      // A refusal (the grader busy) is not kept: the next ask runs it again.
      reference ??= run(sql).catch((error: unknown) => {
        reference = undefined;
        throw error;
      });
      return reference;
    },
  };
}

/**
 * Measures an exercise before it is published (ADR 0036): the reference,
 * keyed, on the start state and on every hidden dataset (the start state
 * first, so its layer is built once and the datasets start from it); a
 * dataset that fails to build is EXERCISES_SETUP_FAILED, a reference that
 * fails on one EXERCISES_REFERENCE_FAILED, one past the compared rows
 * EXERCISES_REFERENCE_TOO_LARGE. Then every mutant on every dataset.
 */
/** A dataset's keyed reference result, kept with the publication: what attempts are compared with. */
export interface ReferenceResult extends ResultSet {
  name: string;
}

export async function measureExercise(
  grader: ThrowawayQueries,
  exercise: MeasuredExercise,
  settings: MeasureSettings,
): Promise<{ report: ReportBody; references: ReferenceResult[]; layerKeys: string[] }> {
  const started = performance.now();
  const plan = planReference(exercise.solution);
  // Each dataset's state, as sql-runner keyed it: what the publication holds pinned and warm (ADR 0044).
  const layerKeys: string[] = [];
  const runners = [undefined, ...exercise.datasets].map((dataset, i) =>
    datasetRunner(grader, exercise, dataset, settings, plan.sql, (key) => {
      layerKeys[i] = key;
    }),
  );
  const referenceOn = async (runner: DatasetRunner): Promise<ReferenceResult> => {
    let result: ResultSet;
    try {
      result = await runner.run(plan.sql);
    } catch (error) {
      if (!(error instanceof RunError)) throw error;
      const { sqlstate, message, line, column } = error.error;
      throw new ExercisesError(
        'EXERCISES_REFERENCE_FAILED',
        `The reference fails on the ${runner.name} dataset: ${message}`,
        {
          details: { dataset: runner.name, sqlstate, message, line, column },
        },
      );
    }
    const truncated = (result as ResultSet & { truncated?: boolean }).truncated === true;
    if (truncated || result.rows.length > DEFAULT_MAX_COMPARED_ROWS) {
      throw new ExercisesError(
        'EXERCISES_REFERENCE_TOO_LARGE',
        `The reference returns too many rows on the ${runner.name} dataset.`,
        {
          details: { dataset: runner.name, limit: Math.min(DEFAULT_MAX_COMPARED_ROWS, result.rows.length) },
        },
      );
    }
    return { name: runner.name, columns: result.columns, rows: result.rows };
  };
  // The start state first, so its layer is built once and the hidden datasets start from it; then the
  // hidden ones within the account's throwaway slots (states not yet held warm count against the smaller
  // bound: a dataset refused busy waits for one of the others, and the measure keeps the bound it found).
  const bound: GradeBound = { atOnce: DATASETS_AT_ONCE };
  const [start, ...hidden] = runners;
  const references: ReferenceResult[] = start ? [await referenceOn(start)] : [];
  await gradeEach(hidden.length, bound, async (i) => {
    references[i + 1] = await referenceOn(hidden[i] as DatasetRunner);
  });
  const report = await measureMutants(exercise.solution, runners, {
    atOnce: bound.atOnce,
    maxMutants: settings.maxMutants,
    compare: exercise.compare,
    equivalent: exercise.equivalentMutants,
    budgetMs: settings.budgetMs,
  });
  return {
    report: {
      ...report,
      survivors: report.survivors.map(({ operator, label, sql }) => ({ operator, label, sql })),
      warnings: plan.warnings,
      ms: Math.round(performance.now() - started),
    },
    references,
    layerKeys: layerKeys.filter((key) => key !== undefined),
  };
}
