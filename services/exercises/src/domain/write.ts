import { createHash } from 'node:crypto';
import type { AttemptCheck, MutationReport, SqlRunnerApi } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import { datasetTail, type ThrowawayQueries } from '../clients/sql-runner.js';
import { ExercisesError } from '../errors.js';
import { compareResults, type ResultCompareOptions } from './compare/compare-results.js';
import { planReference, type ReferencePlan } from './compare/reference-order.js';
import type { ResultSet } from './compare/result-set.js';
import { compareStates } from './compare/state.js';
import {
  StateReadError,
  type StoredState,
  snapshotOf,
  stateFromReads,
  stateReads,
  type WriteCompare,
} from './compare/state-read.js';
import { DATASETS_AT_ONCE, gradeEach } from './grade-each.js';
import { generateWriteMutants } from './mutants/write-mutants.js';
import type { MeasureSettings } from './publish.js';
import { START_DATASET } from './publish.js';

/** Entries sent in one request: sql-runner's MAX_THROWAWAY_QUERIES. */
const ENTRIES_PER_REQUEST = 16;
/** Catalog lines of each side a verdict shows. */
const SCHEMA_LINES_SHOWN = 10;

/** A write or DDL exercise as publishing and grading need it. */
export interface WriteExercise {
  setupSql: string;
  solution: string;
  datasets: { name: string; sql: string }[];
  compare: WriteCompare & ResultCompareOptions;
  equivalentMutants: string[];
}

/** What the reference left on one dataset, kept with the publication: what attempts are compared with. */
export interface WriteReference {
  name: string;
  state: StoredState;
}

type Entry = SqlRunnerApi.ThrowawayQueryResult;
type As = MeasureSettings['as'];

/** Runs `sqls` on fresh clones of one dataset's state, each followed by the state reads; a failing tail is EXERCISES_SETUP_FAILED. */
async function runOn(
  grader: ThrowawayQueries,
  exercise: WriteExercise,
  dataset: { name: string; sql: string } | undefined,
  sqls: string[],
  as: As,
  timeoutMs?: number,
  onLayer?: (layerKey: string) => void,
): Promise<Entry[]> {
  const reads = stateReads(exercise.compare).map((sql) => ({ sql }));
  const results: Entry[] = [];
  for (let i = 0; i < sqls.length; i += ENTRIES_PER_REQUEST) {
    const statements = sqls.slice(i, i + ENTRIES_PER_REQUEST).map((sql) => ({ sql, reads }));
    try {
      const answer = await grader.run(
        { tail: datasetTail(exercise.setupSql, dataset), statements, ...(timeoutMs ? { timeoutMs } : {}) },
        as,
      );
      results.push(...answer.results);
      onLayer?.(answer.layerKey);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SQL_RUNNER_THROWAWAY_TAIL_FAILED') {
        const d = error.details;
        const name = dataset?.name ?? START_DATASET;
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
  }
  return results;
}

/** The state an entry left, or why it has none: its SQL's error, or a read's. */
function stateOf(
  entry: Entry | undefined,
  compare: WriteCompare,
  strict: boolean,
): StoredState | SqlRunnerApi.ThrowawayQueryError {
  if (!entry) throw new Error('sql-runner answered no result for an entry sent');
  if (!entry.ok) return entry.error;
  try {
    return stateFromReads(entry.reads ?? [], compare, { strict });
  } catch (error) {
    if (error instanceof StateReadError)
      return { ...error.error, message: `the ${error.read} read fails: ${error.error.message}` };
    throw error;
  }
}

const isState = (s: StoredState | SqlRunnerApi.ThrowawayQueryError): s is StoredState => 'tables' in s;

/**
 * The verdict on the state an answer left (`actual`) against the reference's: the catalog, then the named
 * tables row by row and every other table by digest (compareStates), then the check query's result as a
 * query answer is compared.
 */
export function writeVerdict(
  expected: StoredState,
  actual: StoredState,
  compare: WriteExercise['compare'],
  sampleRows: number,
): Omit<AttemptCheck, 'dataset'> {
  if (actual.openTransaction) {
    return {
      passed: false,
      reason: 'error',
      message:
        'Your SQL leaves a transaction open (BEGIN without COMMIT): its changes would be rolled back when the session ends. End it with COMMIT.',
    };
  }
  if (actual.truncated && !expected.truncated) {
    // The same state reads the same: a read past sql-runner's bound where the reference's fitted is a
    // different state, whatever the rows that fitted show.
    return {
      passed: false,
      reason: 'tables',
      message:
        'Your SQL leaves more data than the expected state holds: more than the grader reads at once. The task does not make the tables grow so.',
    };
  }
  const verdict = compareStates(snapshotOf(expected), snapshotOf(actual), sampleRows);
  const failedBy = (v: typeof verdict): Omit<AttemptCheck, 'dataset'> => ({
    passed: false,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.message ? { message: v.message } : {}),
    ...(v.tables && v.tables.length > 0 ? { tables: v.tables } : {}),
    ...(v.otherChanges && v.otherChanges.length > 0 ? { otherChanges: v.otherChanges } : {}),
    ...(v.schema
      ? {
          schema: {
            missing: v.schema.missing.slice(0, SCHEMA_LINES_SHOWN),
            extra: v.schema.extra.slice(0, SCHEMA_LINES_SHOWN),
          },
        }
      : {}),
  });
  // The catalog and the named tables first; then the check query, which says more about the tables it reads
  // than their digests would; the other tables' digests (nothing else changed) last.
  if (!verdict.passed && (verdict.reason === 'schema' || (verdict.tables?.length ?? 0) > 0)) return failedBy(verdict);
  if (compare.check && expected.check && actual.check) {
    const { ordered, columnNames, tolerance } = compare;
    const plan = planReference(compare.check);
    const checked = compareResults(plan, expected.check, asWritten(plan, actual.check), {
      ...(ordered !== undefined ? { ordered } : {}),
      ...(columnNames !== undefined ? { columnNames } : {}),
      ...(tolerance !== undefined ? { tolerance } : {}),
      sampleRows,
    });
    if (!checked.passed) {
      const { passed: _, ...rest } = checked as unknown as AttemptCheck;
      return {
        ...(rest as Omit<AttemptCheck, 'dataset' | 'passed'>),
        passed: false,
        message: `The check query after your SQL: ${checked.message ?? 'its result differs'}`,
      };
    }
  }
  return verdict.passed ? { passed: true } : failedBy(verdict);
}

/**
 * What the check query as written returns, from its keyed run on the answer's state (both sides of a check
 * run keyed): the hidden sort keys dropped, and of the rows FETCH … WITH TIES extended, the author's window.
 */
function asWritten(plan: ReferencePlan, keyed: ResultSet): ResultSet {
  const shown = keyed.columns.length - plan.hiddenColumns;
  const { offset, count } = plan.window;
  const rows = keyed.rows.slice(offset, count === null ? undefined : offset + count);
  return { columns: keyed.columns.slice(0, shown), rows: rows.map((row) => row.slice(0, shown)) };
}

/** A digest of the state an answer left (or of its error): what groups wrong answers that returned the same. */
export function stateDigest(state: StoredState | SqlRunnerApi.ThrowawayQueryError): string {
  const shown = isState(state)
    ? {
        tables: state.tables.map((t) => [t.table, t.rows, t.digest]).sort(),
        catalog: [...state.catalog].sort(),
        open: state.openTransaction === true,
        check: state.check
          ? [state.check.columns.map((c) => c.type), state.check.rows.map((r) => JSON.stringify(r)).sort()]
          : null,
      }
    : { error: state.sqlstate };
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex').slice(0, 32);
}

/**
 * Measures a write exercise before it is published: the reference on the start state and every hidden
 * dataset, each on a fresh clone followed by the state reads (its state is what attempts are compared
 * with); then every mutant of the reference (WHERE dropped, operators, literals) on every dataset, killed
 * when the state it leaves differs on one of them (an error where the reference ran too), stillborn when it
 * fails on all.
 */
export async function measureWriteExercise(
  grader: ThrowawayQueries,
  exercise: WriteExercise,
  settings: MeasureSettings,
): Promise<{ report: MutationReport; references: WriteReference[]; layerKeys: string[] }> {
  const started = performance.now();
  const datasets = [undefined, ...exercise.datasets];
  const nameOf = (i: number) => datasets[i]?.name ?? START_DATASET;
  // Each dataset's state, as sql-runner keyed it: what the publication holds pinned and warm (ADR 0044).
  const layerKeys: string[] = [];
  const referenceOn = async (i: number): Promise<WriteReference> => {
    const [entry] = await runOn(grader, exercise, datasets[i], [exercise.solution], settings.as, undefined, (key) => {
      layerKeys[i] = key;
    });
    const state = stateOf(entry, exercise.compare, true);
    if (isState(state) && state.openTransaction) {
      throw new ExercisesError(
        'EXERCISES_REFERENCE_FAILED',
        `The reference leaves a transaction open on the ${nameOf(i)} dataset: end it with COMMIT.`,
        { details: { dataset: nameOf(i), message: 'the reference leaves a transaction open' } },
      );
    }
    if (!isState(state)) {
      const { sqlstate, message, line, column } = state;
      throw new ExercisesError(
        'EXERCISES_REFERENCE_FAILED',
        `The reference fails on the ${nameOf(i)} dataset: ${message}`,
        {
          details: { dataset: nameOf(i), sqlstate, message, line, column },
        },
      );
    }
    return { name: nameOf(i), state };
  };
  // The start state first, so its layer is built once and the hidden datasets start from it; then one
  // dataset at a time, within the account's throwaway slots.
  const references: WriteReference[] = [];
  for (const i of datasets.keys()) references.push(await referenceOn(i));

  const equivalent = new Set(exercise.equivalentMutants);
  const mutants = generateWriteMutants(exercise.solution, settings.maxMutants);
  const counted = mutants.filter((m) => !equivalent.has(m.label));
  const report: MutationReport = {
    mutants: mutants.length,
    killed: 0,
    stillborn: 0,
    equivalent: mutants.length - counted.length,
    unmeasured: 0,
    score: 1,
    survivors: [],
    datasets: references.map((r) => ({ name: r.name, killed: 0 })),
    warnings: [],
    ms: 0,
  };
  for (let i = 0; i < counted.length; i += ENTRIES_PER_REQUEST) {
    const batch = counted.slice(i, i + ENTRIES_PER_REQUEST);
    if (performance.now() - started > settings.budgetMs) {
      report.unmeasured += batch.length;
      continue;
    }
    // One dataset at a time: each request takes every throwaway slot of the account for its 16 entries.
    const outcomes: ('error' | 'passed' | 'failed')[][] = [];
    for (const [d, dataset] of datasets.entries()) {
      const sqls = batch.map((m) => m.sql);
      const entries = await runOn(grader, exercise, dataset, sqls, settings.as, settings.mutantTimeoutMs);
      const expected = references[d]?.state as StoredState;
      outcomes.push(
        entries.map((entry) => {
          const state = stateOf(entry, exercise.compare, false);
          if (!isState(state)) return 'error';
          return writeVerdict(expected, state, exercise.compare, 0).passed ? 'passed' : 'failed';
        }),
      );
    }
    for (const [m, mutant] of batch.entries()) {
      const results = outcomes.map((o) => o[m]);
      if (results.every((r) => r === 'error')) report.stillborn++;
      else if (results.every((r) => r === 'passed'))
        report.survivors.push({ operator: mutant.operator, label: mutant.label, sql: mutant.sql });
      else {
        report.killed++;
        for (const [d, r] of results.entries()) {
          const entry = report.datasets[d];
          if (entry && r !== 'passed') entry.killed++;
        }
      }
    }
  }
  const measured = report.killed + report.survivors.length;
  report.score = measured === 0 ? 1 : report.killed / measured;
  report.ms = Math.round(performance.now() - started);
  return { report, references, layerKeys };
}

/**
 * Grades a learner's SQL on a write exercise: on a fresh clone of the start state and of each hidden
 * dataset (never the learner's instance), the SQL then the state reads in the same clone, compared with the
 * state the reference left there. Answers the checks and, per dataset, a digest of what the answer left.
 */
export async function gradeWriteAttempt(
  grader: ThrowawayQueries,
  exercise: WriteExercise & { references: WriteReference[] },
  sql: string,
  settings: { as: As; timeoutMs: number; startSampleRows: number; hiddenSampleRows: number },
): Promise<{ checks: AttemptCheck[]; digests: string[] }> {
  const datasets = [undefined, ...exercise.datasets];
  const checks: AttemptCheck[] = new Array(datasets.length);
  const digests: string[] = new Array(datasets.length);
  const one = async (i: number) => {
    const name = i === 0 ? START_DATASET : `hidden-${i}`;
    const expected = exercise.references[i]?.state;
    if (!expected) throw new Error(`the publication has no reference state for dataset ${i}`);
    const [entry] = await runOn(grader, exercise, datasets[i], [sql], settings.as, settings.timeoutMs);
    const state = stateOf(entry, exercise.compare, false);
    digests[i] = stateDigest(state);
    if (!isState(state)) {
      const { sqlstate, message, line, column, timedOut } = state;
      const own = entry?.ok === false;
      checks[i] = {
        dataset: name,
        passed: false,
        reason: timedOut ? 'time-limit' : 'error',
        message: timedOut ? `The SQL ran past the time limit of ${settings.timeoutMs} ms.` : message,
        // The place is in the learner's SQL only when their SQL failed, not a read after it.
        ...(own ? { error: { sqlstate, message, line, column } } : {}),
      };
      return;
    }
    const sample = i === 0 ? settings.startSampleRows : settings.hiddenSampleRows;
    checks[i] = { dataset: name, ...writeVerdict(expected, state, exercise.compare, sample) };
  };
  await gradeEach(datasets.length, DATASETS_AT_ONCE, one);
  return { checks, digests };
}

/**
 * The digest an attempt is grouped by: per dataset its name, verdict and reason, and the digest of what the
 * answer returned there. Answers written differently that returned the same everywhere share it.
 */
export function verdictDigest(checks: readonly AttemptCheck[], digests: readonly (string | undefined)[]): string {
  const shown = checks.map((c, i) => [c.dataset, c.passed, c.reason ?? null, digests[i] ?? null]);
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex').slice(0, 32);
}
