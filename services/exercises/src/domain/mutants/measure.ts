import { compareResults, type ResultCompareOptions } from '../compare/compare-results.js';
import { planReference } from '../compare/reference-order.js';
import type { ResultSet } from '../compare/result-set.js';
import { DEFAULT_MAX_MUTANTS, generateMutants, type Mutant } from './generate.js';

/**
 * One dataset's state, able to run a query on itself and answer its result
 * set; it throws on an SQL error or a time limit. On the platform each run
 * is a throwaway clone of the dataset's pinned layer; in tests, a database.
 */
export interface DatasetRunner {
  name: string;
  run(sql: string): Promise<ResultSet>;
}

/** What publishing reports about the datasets: how many mutants they tell apart from the reference, and which survive. */
export interface MutationReport {
  /** Mutants run (stillborn ones included). */
  mutants: number;
  killed: number;
  /** Mutants that failed on every dataset (a GROUP BY key dropped that the SELECT still names): not counted in the score. */
  stillborn: number;
  /** killed / (mutants − stillborn), 0..1; 1 when no mutant could run. */
  score: number;
  survivors: Mutant[];
  /** Per dataset, how many of the counted mutants it fails. */
  datasets: { name: string; killed: number }[];
}

/**
 * Runs the reference (keyed, ties extended) and every mutant on every
 * dataset and compares them as an attempt would be compared, with the
 * exercise's options. A mutant is killed when one dataset fails it,
 * including by an error or a time limit where the reference ran.
 */
export async function measureMutants(
  referenceSql: string,
  datasets: readonly DatasetRunner[],
  options: { maxMutants?: number; compare?: ResultCompareOptions } = {},
): Promise<MutationReport> {
  const plan = planReference(referenceSql);
  const mutants = generateMutants(referenceSql, options.maxMutants ?? DEFAULT_MAX_MUTANTS);
  const references = await Promise.all(datasets.map((d) => d.run(plan.sql)));
  const perDataset = datasets.map((d) => ({ name: d.name, killed: 0 }));
  const survivors: Mutant[] = [];
  let killed = 0;
  let stillborn = 0;
  for (const mutant of mutants) {
    let errors = 0;
    const failedOn: number[] = [];
    for (const [i, dataset] of datasets.entries()) {
      const reference = references[i];
      if (!reference) continue;
      let answer: ResultSet | undefined;
      try {
        answer = await dataset.run(mutant.sql);
      } catch {
        // The mutant's SQL error or time limit is the difference itself; its text does not matter here.
        errors++;
      }
      const failed = !answer || !compareResults(plan, reference, answer, { ...options.compare, sampleRows: 0 }).passed;
      if (failed) failedOn.push(i);
    }
    if (datasets.length > 0 && errors === datasets.length) {
      stillborn++;
      continue;
    }
    if (failedOn.length === 0) {
      survivors.push(mutant);
      continue;
    }
    killed++;
    for (const i of failedOn) {
      const entry = perDataset[i];
      if (entry) entry.killed++;
    }
  }
  const counted = mutants.length - stillborn;
  return {
    mutants: mutants.length,
    killed,
    stillborn,
    score: counted === 0 ? 1 : killed / counted,
    survivors,
    datasets: perDataset,
  };
}
