import { compareResults, type ResultCompareOptions } from '../compare/compare-results.js';
import { planReference } from '../compare/reference-order.js';
import type { ResultSet } from '../compare/result-set.js';
import { DATASETS_AT_ONCE, type GradeBound, gradeEach } from '../grade-each.js';
import { DEFAULT_MAX_MUTANTS, generateMutants, type Mutant } from './generate.js';

/**
 * What a dataset runner throws when the query itself failed there (its SQL error or its time limit): to the
 * measure, a mutant's difference from the reference. Anything else a runner throws (the grader busy past
 * what a retry can wait for, sql-runner down) ends the measure: it says nothing about the mutant.
 */
export class QueryFailed extends Error {
  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'QueryFailed';
  }
}

/**
 * One dataset's state, able to run a query on itself and answer its result
 * set; it throws `QueryFailed` on the query's SQL error or time limit. On the platform each run
 * is a throwaway clone of the dataset's pinned layer; in tests, a database.
 */
export interface DatasetRunner {
  name: string;
  run(sql: string): Promise<ResultSet>;
}

/** How a publish measures: the cap, the comparison, what the author marked, the time it may take. */
export interface MeasureOptions {
  maxMutants?: number;
  /** The exercise's comparison options (`sampleRows` is forced to 0: a report shows no data). */
  compare?: ResultCompareOptions;
  /** Labels of mutants the author marked equivalent to the reference on every database: run, never counted. */
  equivalent?: readonly string[];
  /** Wall-clock budget; mutants not started by then are reported as `unmeasured`, not as survivors. Default 120 s. */
  budgetMs?: number;
  /**
   * Datasets run at once for one mutant (default DATASETS_AT_ONCE), lowered for the rest of the measure when
   * the grader refuses one busy while others run (`gradeEach`).
   */
  atOnce?: number;
}

/** What publishing reports about the datasets: how many mutants they tell apart from the reference, and which survive. */
export interface MutationReport {
  /** Mutants generated (within the cap). */
  mutants: number;
  killed: number;
  /** Mutants that failed on every dataset (a GROUP BY key dropped that the SELECT still names): not counted in the score. */
  stillborn: number;
  /** Mutants the author marked equivalent: not counted in the score. */
  equivalent: number;
  /** Mutants left unrun when the time budget ran out: not counted in the score. */
  unmeasured: number;
  /** killed / (killed + survivors), 0..1; 1 when nothing was counted. */
  score: number;
  survivors: Mutant[];
  /** Per dataset, how many of the counted mutants it fails. */
  datasets: { name: string; killed: number }[];
}

/**
 * Runs the reference (keyed, ties extended) and every mutant on every
 * dataset (the datasets of one mutant at once, within `atOnce` and what the
 * grader lets in) and compares them as an attempt would be compared, with the
 * exercise's options. A mutant is killed when one dataset fails it, including
 * by its own error or time limit (`QueryFailed`) where the reference ran; any
 * other error of a runner ends the measure, never counts as a kill.
 */
export async function measureMutants(
  referenceSql: string,
  datasets: readonly DatasetRunner[],
  options: MeasureOptions = {},
): Promise<MutationReport> {
  const started = Date.now();
  const budgetMs = options.budgetMs ?? 120_000;
  const equivalentLabels = new Set(options.equivalent ?? []);
  const plan = planReference(referenceSql);
  const mutants = generateMutants(referenceSql, options.maxMutants ?? DEFAULT_MAX_MUTANTS);
  const bound: GradeBound = { atOnce: options.atOnce ?? DATASETS_AT_ONCE };
  const references: ResultSet[] = new Array(datasets.length);
  await gradeEach(datasets.length, bound, async (i) => {
    references[i] = await (datasets[i] as DatasetRunner).run(plan.sql);
  });
  const compare = { ...options.compare, sampleRows: 0 };
  const report: MutationReport = {
    mutants: mutants.length,
    killed: 0,
    stillborn: 0,
    equivalent: 0,
    unmeasured: 0,
    score: 1,
    survivors: [],
    datasets: datasets.map((d) => ({ name: d.name, killed: 0 })),
  };
  for (const mutant of mutants) {
    if (equivalentLabels.has(mutant.label)) {
      report.equivalent++;
      continue;
    }
    if (Date.now() - started > budgetMs) {
      report.unmeasured++;
      continue;
    }
    const outcomes: ('passed' | 'failed' | 'error')[] = new Array(datasets.length);
    await gradeEach(datasets.length, bound, async (i) => {
      const reference = references[i];
      try {
        const answer = await (datasets[i] as DatasetRunner).run(mutant.sql);
        outcomes[i] = reference && !compareResults(plan, reference, answer, compare).passed ? 'failed' : 'passed';
      } catch (error) {
        // The mutant's SQL error or time limit is the difference itself; its text does not matter here.
        if (!(error instanceof QueryFailed)) throw error;
        outcomes[i] = 'error';
      }
    });
    if (outcomes.length > 0 && outcomes.every((o) => o === 'error')) {
      report.stillborn++;
      continue;
    }
    if (outcomes.every((o) => o === 'passed')) {
      report.survivors.push(mutant);
      continue;
    }
    report.killed++;
    for (const [i, outcome] of outcomes.entries()) {
      const entry = report.datasets[i];
      if (entry && outcome !== 'passed') entry.killed++;
    }
  }
  const counted = report.killed + report.survivors.length;
  report.score = counted === 0 ? 1 : report.killed / counted;
  return report;
}
