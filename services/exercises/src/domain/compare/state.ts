import type pg from 'pg';
import { ExercisesError } from '../../errors.js';
import { CATALOG_SQL, RELATIONS_SQL, TABLE_DIGEST_SQL, TABLE_ROWS_SQL } from './state-sql.js';

/** What a write or DDL exercise compares after the answer has run (the exercise's `compare`). */
export interface StateCompareOptions {
  /** Tables whose rows are compared and shown row by row (`public.orders` or `orders`). */
  tables: string[];
  /** Also compare columns, types, defaults, constraints and indexes from the catalog. */
  schema?: boolean;
  /** Schemas the state is read from; default `public`. */
  schemas?: string[];
  /** Most rows read from one named table; a larger one is refused (a check query compares it instead). Default 10 000. */
  rowLimit?: number;
}

/** A database's state as the comparison reads it. */
export interface StateSnapshot {
  /**
   * Every table of the schemas: row count and digest, and for the named ones, their rows as record text
   * (`cut` when the read could not answer them all: the count and digest still cover every row).
   */
  tables: Map<string, { rows: number; digest: string; content?: string[]; cut?: boolean }>;
  /** One line per relation, column, constraint and index; empty unless `schema` was asked. */
  catalog: string[];
}

/** Why the state an answer left differs from the reference's. */
export interface StateVerdict {
  passed: boolean;
  reason?: 'tables' | 'schema';
  message?: string;
  /** Named tables whose rows differ, with a few rows of each side. */
  tables?: { table: string; missingCount: number; extraCount: number; missingRows: string[]; extraRows: string[] }[];
  /** Tables not named by the exercise that the answer changed, created or dropped. */
  otherChanges?: string[];
  /** Catalog lines the answer's database lacks, and has that it should not. */
  schema?: { missing: string[]; extra: string[] };
}

/** Reads the state of the database `client` is connected to. */
export async function snapshotState(client: pg.ClientBase, options: StateCompareOptions): Promise<StateSnapshot> {
  const schemas = options.schemas ?? ['public'];
  const limit = options.rowLimit ?? 10_000;
  const named = new Set(options.tables.map((t) => (t.includes('.') ? t : `${schemas[0] ?? 'public'}.${t}`)));
  const { rows: relations } = await client.query<{ schema: string; name: string; kind: string; qualified: string }>(
    RELATIONS_SQL,
    [schemas],
  );
  const tables: StateSnapshot['tables'] = new Map();
  for (const relation of relations.filter((r) => r.kind === 'r' || r.kind === 'p')) {
    const label = `${relation.schema}.${relation.name}`;
    const { rows } = await client.query<{ rows: string; digest: string }>(
      TABLE_DIGEST_SQL.replace('%s', relation.qualified),
    );
    const count = Number(rows[0]?.rows ?? 0);
    const entry: { rows: number; digest: string; content?: string[] } = { rows: count, digest: rows[0]?.digest ?? '' };
    if (named.has(label)) {
      if (count > limit) {
        throw new ExercisesError(
          'EXERCISES_STATE_TOO_LARGE',
          `Table ${label} has more rows than the comparison reads.`,
          {
            details: { table: label, limit },
          },
        );
      }
      const content = await client.query<{ row: string }>(TABLE_ROWS_SQL.replace('%s', relation.qualified), [limit]);
      entry.content = content.rows.map((r) => r.row);
    }
    tables.set(label, entry);
  }
  const catalog = options.schema
    ? (await client.query<{ line: string }>(CATALOG_SQL, [schemas])).rows.map((r) => r.line)
    : [];
  return { tables, catalog };
}

/**
 * Compares the state an answer left (`actual`) with the state the
 * reference left on the same start state (`expected`): the named tables
 * row by row (a multiset of record texts), every other table by digest
 * (nothing else changed), and the catalog lines when both were read with
 * `schema`. The schema is checked first: rows of a table whose columns
 * differ would only repeat it.
 */
export function compareStates(expected: StateSnapshot, actual: StateSnapshot, sampleRows = 3): StateVerdict {
  const missing = difference(expected.catalog, actual.catalog);
  const extra = difference(actual.catalog, expected.catalog);
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `lacks ${missing.slice(0, sampleRows || 1).join('; ')}` : '',
      extra.length > 0 ? `has ${extra.slice(0, sampleRows || 1).join('; ')}, which the task does not ask for` : '',
    ].filter(Boolean);
    return {
      passed: false,
      reason: 'schema',
      message: `The schema your SQL leaves differs: it ${parts.join(', and ')}.`,
      schema: { missing, extra },
    };
  }
  const tables: NonNullable<StateVerdict['tables']> = [];
  const otherChanges: string[] = [];
  for (const name of new Set([...expected.tables.keys(), ...actual.tables.keys()])) {
    const want = expected.tables.get(name);
    const got = actual.tables.get(name);
    if (want?.content || got?.content) {
      const differs = namedTableDifference(want, got);
      if (differs) tables.push({ table: name, ...differs, ...sampled(differs, sampleRows) });
    } else if (!want || !got || want.digest !== got.digest || want.rows !== got.rows) {
      otherChanges.push(name);
    }
  }
  if (tables.length === 0 && otherChanges.length === 0) return { passed: true };
  const sentences = tables.map(
    (t) =>
      `Table ${t.table}: ${[
        t.missingCount > 0 ? `${t.missingCount} expected row${t.missingCount === 1 ? ' is' : 's are'} missing` : '',
        t.extraCount > 0 ? `${t.extraCount} row${t.extraCount === 1 ? '' : 's'} should not be there` : '',
        t.missingCount === 0 && t.extraCount === 0 ? 'its rows differ from the expected ones' : '',
      ]
        .filter(Boolean)
        .join(' and ')}${sampleRows > 0 && t.missingRows[0] ? ` (for example ${t.missingRows[0]} is expected)` : ''}.`,
  );
  if (otherChanges.length > 0) {
    sentences.push(`Your SQL also changed ${otherChanges.join(', ')}, which the task leaves as it was.`);
  }
  return { passed: false, reason: 'tables', message: sentences.join(' '), tables, otherChanges };
}

type TableState = StateSnapshot['tables'] extends Map<string, infer T> ? T : never;
type TableDifference = { missingCount: number; extraCount: number; missingRows: string[]; extraRows: string[] };

/**
 * How a named table's rows differ, or null when they do not: row by row, and by count and digest too, so rows
 * past those read (a read cut at sql-runner's bound, a reference stored cut) still count. A side read cut
 * shows no rows: which of its rows are missing is not known, only how many more or fewer it has.
 */
function namedTableDifference(want: TableState | undefined, got: TableState | undefined): TableDifference | null {
  const sameWhole = want !== undefined && got !== undefined && want.rows === got.rows && want.digest === got.digest;
  if (want?.cut || got?.cut) {
    if (sameWhole) return null;
    const [expected, actual] = [want?.rows ?? 0, got?.rows ?? 0];
    const counts = { missingCount: Math.max(0, expected - actual), extraCount: Math.max(0, actual - expected) };
    return { ...counts, missingRows: [], extraRows: [] };
  }
  const missingRows = difference(want?.content ?? [], got?.content ?? []);
  const extraRows = difference(got?.content ?? [], want?.content ?? []);
  if (missingRows.length === 0 && extraRows.length === 0 && sameWhole) return null;
  return { missingCount: missingRows.length, extraCount: extraRows.length, missingRows, extraRows };
}

const sampled = (d: TableDifference, sampleRows: number) => ({
  missingRows: d.missingRows.slice(0, sampleRows),
  extraRows: d.extraRows.slice(0, sampleRows),
});

/** The lines of `a` not matched in `b`, duplicates counted. */
function difference(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of b) counts.set(line, (counts.get(line) ?? 0) + 1);
  const left: string[] = [];
  for (const line of a) {
    const n = counts.get(line) ?? 0;
    if (n > 0) counts.set(line, n - 1);
    else left.push(line);
  }
  return left;
}
