import { createHash } from 'node:crypto';
import type { AttemptCheck, SqlRunnerApi } from '@taidon/contracts';
import { datasetTail, type ThrowawayQueries } from '../clients/sql-runner.js';
import { compareResults, type ResultCompareOptions } from './compare/compare-results.js';
import { planReference, type ReferencePlan } from './compare/reference-order.js';
import { DATASETS_AT_ONCE, gradeEach } from './grade-each.js';
import type { ReferenceResult } from './publish.js';
import { START_DATASET } from './publish.js';

/** Rows of each side a verdict shows: the start state's data is visible anyway, hidden data barely. */
const START_SAMPLE_ROWS = 3;
const HIDDEN_SAMPLE_ROWS = 2;
/**
 * Reference plans of the solutions attempts were graded on, by the solution's text: a plan is a parse of the
 * solution (libpg-query) and a deparse, the same for every attempt at a publication. Bounded: the oldest goes
 * when a new one comes past the bound.
 */
const referencePlans = new Map<string, Readonly<ReferencePlan>>();
const REFERENCE_PLANS_KEPT = 256;

function referencePlanOf(solution: string): Readonly<ReferencePlan> {
  let plan = referencePlans.get(solution);
  if (!plan) {
    plan = Object.freeze(planReference(solution));
    if (referencePlans.size >= REFERENCE_PLANS_KEPT)
      referencePlans.delete(referencePlans.keys().next().value as string);
    referencePlans.set(solution, plan);
  }
  return plan;
}

/** A published exercise as an attempt needs it. */
export interface GradedExercise {
  setupSql: string;
  solution: string;
  datasets: { name: string; sql: string }[];
  compare: ResultCompareOptions;
  /** The publication's reference results, the start state first. */
  references: ReferenceResult[];
}

/**
 * Grades a learner's SQL (ADR 0036): on a fresh throwaway clone of the start
 * state and of each hidden dataset's state (never the learner's instance),
 * DATASETS_AT_ONCE at a time (fewer when sql-runner's bound is smaller), under `timeoutMs` per statement; each result
 * compared with the publication's reference. A hidden dataset is named
 * `hidden-N` and shows at most two rows of each side.
 */
export async function gradeAttempt(
  grader: ThrowawayQueries,
  exercise: GradedExercise,
  sql: string,
  settings: {
    as: { accountId: string; role: string; requestId?: string };
    timeoutMs: number;
    /** Told, per dataset, a digest of what the answer returned there (its rows as a multiset, or its error). */
    onDigest?: (index: number, digest: string) => void;
  },
): Promise<AttemptCheck[]> {
  const plan = referencePlanOf(exercise.solution);
  const datasets = [undefined, ...exercise.datasets];
  const checks: AttemptCheck[] = new Array(datasets.length);
  const one = async (i: number): Promise<AttemptCheck> => {
    const dataset = datasets[i];
    const name = i === 0 ? START_DATASET : `hidden-${i}`;
    const reference = exercise.references[i];
    if (!reference) throw new Error(`the publication has no reference result for dataset ${i}`);
    const answer = await grader.run(
      { tail: datasetTail(exercise.setupSql, dataset), statements: [{ sql }], timeoutMs: settings.timeoutMs },
      settings.as,
    );
    const result = answer.results[0];
    if (!result) throw new Error('sql-runner answered no result for the one statement sent');
    settings.onDigest?.(i, resultDigest(result));
    if (!result.ok) {
      const { sqlstate, message, line, column, timedOut } = result.error;
      return {
        dataset: name,
        passed: false,
        reason: timedOut ? 'time-limit' : 'error',
        message: timedOut ? `The query ran past the time limit of ${settings.timeoutMs} ms.` : message,
        error: { sqlstate, message, line, column },
      };
    }
    const verdict = compareResults(plan, reference, result, {
      ...exercise.compare,
      sampleRows: i === 0 ? START_SAMPLE_ROWS : HIDDEN_SAMPLE_ROWS,
    });
    // The verdict's rows are read-only views of the results; the answer is plain JSON.
    return { dataset: name, ...(verdict as Omit<AttemptCheck, 'dataset'>) };
  };
  await gradeEach(datasets.length, DATASETS_AT_ONCE, async (i) => {
    checks[i] = await one(i);
  });
  return checks;
}

/** What a query answer returned on one dataset, as a digest: its column types and rows (a multiset), or its error. */
function resultDigest(result: SqlRunnerApi.ThrowawayQueryResult): string {
  const shown = result.ok
    ? [result.columns.map((c) => c.type), result.rows.map((r) => JSON.stringify(r)).sort(), result.truncated]
    : { error: result.error.timedOut ? 'time-limit' : result.error.sqlstate };
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex').slice(0, 32);
}
