import type { SqlRunnerApi } from '@taidon/contracts';
import { ExercisesError } from '../../errors.js';
import { planReference } from './reference-order.js';
import type { ResultSet } from './result-set.js';
import type { StateSnapshot } from './state.js';
import { CATALOG_SQL } from './state-sql.js';

/** What a write or DDL exercise compares after the answer (the exercise's `compare`). */
export interface WriteCompare {
  tables?: string[];
  schema?: boolean;
  check?: string;
}

/** Schemas a write exercise's state is read from. */
const SCHEMAS = ['public'];
/** Most rows read from one named table, as `snapshotState` reads them. */
export const DEFAULT_STATE_ROW_LIMIT = 10_000;

/** A state as a publication keeps it (plain JSON) and an attempt compares it: tables, catalog, the check's result. */
export interface StoredState {
  /**
   * Every table by count and digest; a named one also by its rows (`content`), `cut` when the read could not
   * answer them all (sql-runner's row or byte bound): then only its count and digest compare it.
   */
  tables: { table: string; rows: number; digest: string; content?: string[]; cut?: boolean }[];
  catalog: string[];
  check?: ResultSet;
  /** A read was cut at sql-runner's row or byte bound (an answer's only: a reference's is refused). */
  truncated?: boolean;
  /** The SQL left a transaction open that wrote: on a real server its changes would be rolled back. */
  openTransaction?: boolean;
}

/** A SQL string literal; the names it quotes are checked by the contract's patterns, the quoting is for safety. */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
const textArray = (items: readonly string[]) => `ARRAY[${items.map(literal).join(', ')}]::text[]`;

/** `orders` → `public.orders`: the label a table has in a state. */
export const qualifiedName = (table: string) => (table.includes('.') ? table : `${SCHEMAS[0]}.${table}`);

/**
 * One statement that reads every table of the schemas (row count and a digest of its sorted rows) and the
 * named tables' rows as record text, whatever the answer did to them: the table names are only known after
 * the answer ran, so each table is read through `query_to_xml` (dynamic SQL inside one SELECT), and row text
 * travels base64 inside the XML (no escaping to undo). A table the answer dropped is simply absent. A row
 * `open-transaction` says the answer left a transaction open that wrote (the read runs inside it: alone, a
 * SELECT is given no transaction id).
 */
function tablesRead(named: readonly string[], rowLimit: number): string {
  return `WITH rel AS (
  SELECT n.nspname || '.' || c.relname AS label, pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY (${textArray(SCHEMAS)}) AND c.relkind IN ('r', 'p')
), digests AS (
  SELECT label, pg_catalog.query_to_xml(pg_catalog.format(
    'SELECT count(*) AS n, pg_catalog.md5(coalesce(pg_catalog.string_agg(t::text, E''\\n'' ORDER BY t::text), '''')) AS d FROM %s AS t',
    qualified), true, false, '') AS x
    FROM rel
)
SELECT 'table' AS kind, label, (pg_catalog.xpath('/table/row/n/text()', x))[1]::text AS n,
       (pg_catalog.xpath('/table/row/d/text()', x))[1]::text AS value
  FROM digests
UNION ALL
SELECT 'row', r.label, NULL, pg_catalog.convert_from(pg_catalog.decode(v::text, 'base64'), 'UTF8')
  FROM rel r, LATERAL pg_catalog.unnest(pg_catalog.xpath('/table/row/r/text()', pg_catalog.query_to_xml(pg_catalog.format(
    'SELECT pg_catalog.encode(pg_catalog.convert_to(t::text, ''UTF8''), ''base64'') AS r FROM %s AS t ORDER BY t::text LIMIT ${rowLimit + 1}',
    r.qualified), true, false, ''))) AS v
 WHERE r.label = ANY (${textArray(named)})
UNION ALL
SELECT 'table', 'function ' || p.oid::pg_catalog.regprocedure::text, '0',
       pg_catalog.md5(pg_catalog.concat_ws('|', p.prokind, p.prorettype::pg_catalog.regtype, p.prosrc))
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY (${textArray(SCHEMAS)})
UNION ALL
SELECT 'table', 'operator ' || o.oid::pg_catalog.regoperator::text, '0', o.oprcode::pg_catalog.regprocedure::text
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
 WHERE n.nspname = ANY (${textArray(SCHEMAS)})
UNION ALL
SELECT 'open-transaction', NULL, NULL, NULL WHERE pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL`;
}

/**
 * Set before every read, in the read itself (the answer ran on this session and may have set anything): the
 * catalog first in the path and the learner's temporary schema last, so no temporary table or view named
 * `pg_class` (or like a checked table) stands in for the real one; the reads' own SQL sees no function or
 * operator of `public` at all (one there with a closer argument type would win over the catalog's, wherever
 * it is in the path); and row security off, so a policy the answer added cannot hide rows from a read (a
 * read it would filter fails instead).
 */
const READ_GUARD =
  "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), pg_catalog.set_config('row_security', 'off', false);\n";
/**
 * The author's check query names the exercise's tables unqualified, so `public` is in its path, after the
 * catalog. A function or operator the answer added to `public` to win the check's calls is itself a change the
 * table read lists (as `function …` / `operator …`), which the reference did not make: the answer fails.
 */
const CHECK_GUARD =
  "SELECT pg_catalog.set_config('search_path', 'pg_catalog, public, pg_temp', false), pg_catalog.set_config('row_security', 'off', false);\n";

/**
 * The reads a write exercise runs after an answer (and after its reference) on the same clone, in order:
 * the tables, the catalog when `schema`, the check query (keyed, as a reference query is) when given.
 */
export function stateReads(compare: WriteCompare, rowLimit = DEFAULT_STATE_ROW_LIMIT): string[] {
  const reads = [READ_GUARD + tablesRead((compare.tables ?? []).map(qualifiedName), rowLimit)];
  if (compare.schema) reads.push(READ_GUARD + CATALOG_SQL.replace('$1::text[]', textArray(SCHEMAS)));
  if (compare.check) reads.push(CHECK_GUARD + planReference(compare.check).sql);
  return reads;
}

/** A read that failed: the check query on the state an answer left (a column it dropped), or a state read. */
export class StateReadError extends Error {
  constructor(
    readonly read: 'state' | 'catalog' | 'check',
    readonly error: SqlRunnerApi.ThrowawayQueryError,
  ) {
    super(error.message);
  }
}

type Read = SqlRunnerApi.ThrowawayReadResult;

/**
 * The state an entry's reads answered. When `strict` (the reference's state, the author's to fix), a named
 * table past `rowLimit` rows, or whose rows the read could not answer whole (sql-runner cut it at its row or
 * byte bound), is EXERCISES_STATE_TOO_LARGE naming it, and any other read cut too: a cut state stored would
 * grade every answer by the rows that happened to fit. An answer's state is compared as read, a named table
 * cut marked `cut` (compared by count and digest). A read's error is a StateReadError.
 */
export function stateFromReads(
  reads: readonly Read[],
  compare: WriteCompare,
  options: { strict: boolean; rowLimit?: number },
): StoredState {
  const limit = options.rowLimit ?? DEFAULT_STATE_ROW_LIMIT;
  const names: ('state' | 'catalog' | 'check')[] = ['state'];
  if (compare.schema) names.push('catalog');
  if (compare.check) names.push('check');
  const results = names.map((name, i) => {
    const read = reads[i];
    if (!read) throw new Error(`sql-runner answered no ${name} read`);
    if (!read.ok) throw new StateReadError(name, read.error);
    return read;
  });
  const [tablesResult, ...rest] = results;
  const byTable = new Map<string, StoredState['tables'][number]>();
  for (const [kind, label, n, value] of tablesResult?.rows ?? []) {
    if (label === null || label === undefined) continue;
    if (kind === 'table') byTable.set(label, { table: label, rows: Number(n ?? 0), digest: value ?? '' });
  }
  for (const [kind, label, , value] of tablesResult?.rows ?? []) {
    if (kind !== 'row' || !label || value === null || value === undefined) continue;
    const table = byTable.get(label);
    if (!table) continue;
    table.content ??= [];
    table.content.push(value);
  }
  for (const name of (compare.tables ?? []).map(qualifiedName)) {
    const table = byTable.get(name);
    if (!table) continue;
    table.content ??= [];
    // The read asks for limit + 1 rows of each named table; fewer than that or its count means it was cut.
    if (table.content.length < Math.min(table.rows, limit + 1)) table.cut = true;
    if (options.strict && (table.rows > limit || table.cut)) {
      const rowsRead = Math.min(table.content.length, limit);
      const why =
        table.rows > limit
          ? `has more rows than the comparison reads (${limit})`
          : `is larger than one read may answer: ${rowsRead} of its ${table.rows} rows were read`;
      throw new ExercisesError('EXERCISES_STATE_TOO_LARGE', `Table ${name} ${why}.`, {
        details: { table: name, limit, rows: table.rows, rowsRead },
      });
    }
  }
  const cutRead = results.findIndex((read) => read.truncated);
  if (options.strict && cutRead >= 0) {
    throw new ExercisesError(
      'EXERCISES_STATE_TOO_LARGE',
      `The ${names[cutRead]} read is larger than a result may be.`,
      {
        details: { read: names[cutRead] },
      },
    );
  }
  const state: StoredState = { tables: [...byTable.values()], catalog: [] };
  if (tablesResult?.rows.some(([kind]) => kind === 'open-transaction')) state.openTransaction = true;
  if (cutRead >= 0) state.truncated = true;
  let next = 0;
  if (compare.schema) state.catalog = (rest[next++]?.rows ?? []).map((r) => r[0] ?? '');
  if (compare.check) {
    const check = rest[next];
    if (check) state.check = { columns: check.columns, rows: check.rows };
  }
  return state;
}

/** A stored state as `compareStates` reads it. */
export function snapshotOf(state: StoredState): StateSnapshot {
  return {
    tables: new Map(
      state.tables.map((t) => [
        t.table,
        {
          rows: t.rows,
          digest: t.digest,
          ...(t.content ? { content: t.content } : {}),
          ...(t.cut ? { cut: true } : {}),
        },
      ]),
    ),
    catalog: state.catalog,
  };
}
