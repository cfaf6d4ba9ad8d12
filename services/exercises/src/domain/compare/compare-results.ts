import { ExercisesError } from '../../errors.js';
import { RowMultiset } from './multiset.js';
import type { ReferencePlan } from './reference-order.js';
import { describeType, formatRow, type ResultSet, type TypeFamily, typeFamily, typesAgree } from './result-set.js';

type Row = readonly (string | null)[];

/** How a query exercise compares answers (the exercise's `compare`). */
export interface ResultCompareOptions {
  /** Enforce row order; default: only when the reference has an ORDER BY, and then only the order it determines. */
  ordered?: boolean;
  /** Column names must equal the reference's; default false (the task text names columns when it matters). */
  columnNames?: boolean;
  /** Absolute tolerance for number columns; default 0 (exact, with `2.50` equal to `2.5`). */
  tolerance?: number;
  /** How many differing rows a verdict may show; 0 for a hidden dataset that reveals none. Default 3. */
  sampleRows?: number;
  /** Most rows compared on either side; an answer past it fails, a reference past it is refused. Default 10 000. */
  maxRows?: number;
}

/** Rows compared at most by default: the multiset and tie groups are held in memory. */
export const DEFAULT_MAX_COMPARED_ROWS = 10_000;

/** Why an answer failed on one dataset, in a learner's words and as data the editor can draw as a diff. */
export interface ResultVerdict {
  passed: boolean;
  reason?: 'columns' | 'rows' | 'order';
  /** One or two sentences for the learner. */
  message?: string;
  columns?: { expected: ResultSet['columns']; actual: ResultSet['columns'] };
  missingCount?: number;
  extraCount?: number;
  /** A few expected rows the answer lacks. */
  missingRows?: Row[];
  /** A few rows the answer has and should not. */
  extraRows?: Row[];
  /** 1-based position of the first row that breaks the order the reference's ORDER BY determines. */
  orderDiffers?: { row: number; expected?: Row; actual?: Row };
}

/** One tie group of the keyed reference: rows whose ORDER BY keys are equal, and how many the window keeps. */
interface TieGroup {
  rows: Row[];
  /** Rows of this group inside the author's window (fewer than rows.length where OFFSET or LIMIT cuts it). */
  taken: number;
}

/**
 * Compares a learner's result set with the reference's, run as
 * `plan.sql` (keyed, ties extended): columns first (count, types by
 * family, names when asked), then rows as a multiset, then, when ordered,
 * the order, where rows tied on every ORDER BY key may come in any order
 * and a LIMIT cutting a tie group accepts any of its rows.
 */
export function compareResults(
  plan: ReferencePlan,
  reference: ResultSet,
  answer: ResultSet,
  options: ResultCompareOptions = {},
): ResultVerdict {
  const sample = options.sampleRows ?? 3;
  const maxRows = options.maxRows ?? DEFAULT_MAX_COMPARED_ROWS;
  if (reference.rows.length > maxRows) {
    throw new ExercisesError(
      'EXERCISES_REFERENCE_TOO_LARGE',
      'The reference returns more rows than answers are compared on.',
      {
        details: { limit: maxRows },
      },
    );
  }
  if (answer.rows.length > maxRows) {
    return {
      passed: false,
      reason: 'rows',
      message: `Your query returns more than ${maxRows} rows; the task expects ${plural(reference.rows.length, 'row')} or fewer.`,
    };
  }
  const visible = reference.columns.length - plan.hiddenColumns;
  const expectedColumns = reference.columns.slice(0, visible);
  const columnProblem = compareColumns(expectedColumns, answer.columns, options.columnNames ?? false);
  if (columnProblem) {
    return {
      passed: false,
      reason: 'columns',
      message: columnProblem,
      columns: { expected: expectedColumns, actual: answer.columns },
    };
  }
  const families = expectedColumns.map((c) => typeFamily(c.type));
  const tolerance = options.tolerance ?? 0;
  const ordered = options.ordered ?? plan.hasOrderBy;
  const groups = tieGroups(plan, reference, visible, ordered);
  const rowsVerdict = compareAsMultiset(groups, answer.rows, families, tolerance, sample);
  if (rowsVerdict) return rowsVerdict;
  if (ordered) {
    const orderVerdict = compareOrder(groups, answer.rows, families, tolerance, sample);
    if (orderVerdict) return orderVerdict;
  }
  return { passed: true };
}

function compareColumns(
  expected: ResultSet['columns'],
  actual: ResultSet['columns'],
  names: boolean,
): string | undefined {
  if (expected.length !== actual.length) {
    return `Your query returns ${plural(actual.length, 'column')}; the task expects ${expected.length}.`;
  }
  for (const [i, column] of expected.entries()) {
    const theirs = actual[i];
    if (!theirs) continue;
    if (names && theirs.name !== column.name) {
      return `Column ${i + 1} is named "${theirs.name}"; the task expects "${column.name}".`;
    }
    if (!typesAgree(column.type, theirs.type)) {
      return `Column ${i + 1} ("${theirs.name}") is ${describeType(theirs.type)}; the task expects ${describeType(column.type)}.`;
    }
  }
  return undefined;
}

/** The reference's rows cut into tie groups (one group in all when order does not count), with the window's share of each. */
function tieGroups(plan: ReferencePlan, reference: ResultSet, visible: number, ordered: boolean): TieGroup[] {
  const keyIndex = plan.keys.map((key) => {
    if (key.kind === 'position') return key.index;
    if (key.kind === 'hidden') return visible + key.index;
    return reference.columns.findIndex((c, i) => i < visible && c.name === key.name);
  });
  const keyOf = (row: Row) => JSON.stringify(keyIndex.map((i) => (i >= 0 ? (row[i] ?? null) : null)));
  const start = plan.window.offset;
  const end = plan.window.count === null ? reference.rows.length : start + plan.window.count;
  const groups: TieGroup[] = [];
  let previousKey: string | undefined;
  for (const [index, full] of reference.rows.entries()) {
    // Tie groups follow the ORDER BY keys even when order does not count: LIMIT and OFFSET still pick rows by them.
    // Without a reference ORDER BY an ordered comparison is the author's row order: every row is its own group.
    const key = plan.keys.length > 0 ? keyOf(full) : ordered ? String(index) : '';
    let group = groups[groups.length - 1];
    if (!group || key !== previousKey) {
      group = { rows: [], taken: 0 };
      groups.push(group);
      previousKey = key;
    }
    group.rows.push(full.slice(0, visible));
    if (index >= start && index < end) group.taken++;
  }
  return groups.filter((g) => g.taken > 0);
}

function compareAsMultiset(
  groups: TieGroup[],
  answer: Row[],
  families: readonly TypeFamily[],
  tolerance: number,
  sample: number,
): ResultVerdict | undefined {
  const whole = groups.filter((g) => g.taken === g.rows.length);
  const cut = groups.filter((g) => g.taken < g.rows.length);
  const required = new RowMultiset(
    whole.flatMap((g) => g.rows),
    families,
    tolerance,
  );
  const pools = cut.map((g) => ({ rows: new RowMultiset(g.rows, families, tolerance), left: g.taken }));
  const leftovers = answer.filter((row) => !required.take(row));
  // Rows that fit exactly one cut group go first, so a row that fits two does not use up the wrong one's share.
  const fits = (row: Row) => pools.filter((p) => p.left > 0 && p.rows.has(row));
  const extra: Row[] = [];
  const shared: Row[] = [];
  for (const row of leftovers) {
    const candidates = pools.filter((p) => p.rows.has(row));
    if (candidates.length > 1) shared.push(row);
    else if (!placeIn(candidates, row)) extra.push(row);
  }
  for (const row of shared) if (!placeIn(fits(row), row)) extra.push(row);
  const missingCount = required.size + pools.reduce((n, p) => n + p.left, 0);
  if (missingCount === 0 && extra.length === 0) return undefined;
  const missingRows = [...required.sample(sample), ...pools.flatMap((p) => p.rows.sample(p.left))].slice(0, sample);
  const parts = [
    missingCount > 0 ? `${plural(missingCount, 'expected row')} ${missingCount === 1 ? 'is' : 'are'} missing` : '',
    extra.length > 0 ? `${plural(extra.length, 'row')} should not be there` : '',
  ].filter(Boolean);
  const example =
    sample > 0 && missingRows[0]
      ? ` For example ${formatRow(missingRows[0])} is expected.`
      : sample > 0 && extra[0]
        ? ` For example ${formatRow(extra[0])} is not expected.`
        : '';
  return {
    passed: false,
    reason: 'rows',
    message: `${capitalise(parts.join(' and '))} (your query returns ${plural(answer.length, 'row')}).${example}`,
    missingCount,
    extraCount: extra.length,
    missingRows,
    extraRows: extra.slice(0, sample),
  };
}

function placeIn(pools: { rows: RowMultiset; left: number }[], row: Row): boolean {
  const pool = pools.find((p) => p.left > 0);
  if (!pool?.rows.take(row)) return false;
  pool.left--;
  return true;
}

/** The answer's rows, read in order, must fill each tie group's share in turn; the first that does not is out of order. */
function compareOrder(
  groups: TieGroup[],
  answer: Row[],
  families: readonly TypeFamily[],
  tolerance: number,
  sample: number,
): ResultVerdict | undefined {
  let position = 0;
  for (const group of groups) {
    const pool = new RowMultiset(group.rows, families, tolerance);
    for (let i = 0; i < group.taken; i++, position++) {
      const row = answer[position];
      if (row && pool.take(row)) continue;
      const expected = pool.sample(1)[0];
      return {
        passed: false,
        reason: 'order',
        message:
          `The rows are right but not in the order the task asks for, from row ${position + 1} on.` +
          (sample > 0 && expected && row
            ? ` Row ${position + 1} is ${formatRow(row)}; expected ${formatRow(expected)} there.`
            : ''),
        orderDiffers:
          sample > 0 && expected && row ? { row: position + 1, expected, actual: row } : { row: position + 1 },
      };
    }
  }
  return undefined;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
