/**
 * A result set as sql-runner streams it (contracts' `ResultColumn` and rows):
 * each column's name and its type as `format_type` prints it, each value
 * PostgreSQL's own text output or null for SQL NULL. Comparing text, not
 * JavaScript numbers, keeps `numeric` exact and dates in PostgreSQL's form.
 */
export interface ResultSet {
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

/** A family of column types whose values compare alike; a learner's `bigint` answers an `integer` column. */
export type TypeFamily = 'number' | 'text' | 'boolean' | 'date' | 'time' | 'timestamp' | 'interval' | 'other';

const FAMILY_BY_PREFIX: [RegExp, TypeFamily][] = [
  [/^(smallint|integer|bigint|numeric|decimal|real|double precision)\b/, 'number'],
  [/^(text|character varying|character|varchar|char|name|citext|"char")\b/, 'text'],
  [/^boolean\b/, 'boolean'],
  [/^date\b/, 'date'],
  [/^time(\(\d+\))? with(out)? time zone\b/, 'time'],
  [/^timestamp(\(\d+\))? with(out)? time zone\b/, 'timestamp'],
  [/^interval\b/, 'interval'],
];

/** The family of a `format_type` name; anything unknown is `other` and compares by its exact name. */
export function typeFamily(type: string): TypeFamily {
  for (const [pattern, family] of FAMILY_BY_PREFIX) if (pattern.test(type)) return family;
  return 'other';
}

/** Whether two column types answer each other: the same family, or the same name for `other`. */
export function typesAgree(expected: string, actual: string): boolean {
  const family = typeFamily(expected);
  return family === typeFamily(actual) && (family !== 'other' || expected === actual);
}

/** Words a learner reads for a type family ("a number", "text"). */
export function describeType(type: string): string {
  const family = typeFamily(type);
  return family === 'other' ? type : family === 'number' ? 'a number' : family;
}

/**
 * A decimal's canonical text: no leading `+`, no trailing fraction zeros,
 * `-0` as `0`, so `2.50` (numeric(10,2)) equals `2.5` (numeric) and `3` equals
 * `3.0`. Anything that is not a plain decimal (NaN, Infinity, 1e+20) is kept.
 */
export function canonicalNumber(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return text;
  const integer = (match[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const body = fraction ? `${integer}.${fraction}` : integer;
  return match[1] === '-' && body !== '0' ? `-${body}` : body;
}

/** A value's canonical text for a column of `family`; null stays null (NULL equals NULL here, as in IS NOT DISTINCT FROM). */
export function canonicalValue(value: string | null, family: TypeFamily): string | null {
  if (value === null) return null;
  return family === 'number' ? canonicalNumber(value) : value;
}

/** A row's identity for multiset counting, after canonicalising each value by its column's family. */
export function rowKey(row: readonly (string | null)[], families: readonly TypeFamily[]): string {
  return JSON.stringify(row.map((v, i) => canonicalValue(v ?? null, families[i] ?? 'other')));
}

/**
 * Whether two rows are equal within `tolerance` (absolute, on number
 * columns only); with tolerance 0 it is exactly rowKey equality.
 */
export function rowsEqual(
  a: readonly (string | null)[],
  b: readonly (string | null)[],
  families: readonly TypeFamily[],
  tolerance: number,
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const family = families[i] ?? 'other';
    const x = canonicalValue(a[i] ?? null, family);
    const y = canonicalValue(b[i] ?? null, family);
    if (x === y) continue;
    if (x === null || y === null || family !== 'number' || tolerance <= 0) return false;
    const dx = Number(x);
    const dy = Number(y);
    if (!Number.isFinite(dx) || !Number.isFinite(dy) || Math.abs(dx - dy) > tolerance) return false;
  }
  return true;
}

/** A row as a learner reads it: `(1, 'Ann', NULL)`. */
export function formatRow(row: readonly (string | null)[]): string {
  return `(${row.map((v) => (v === null ? 'NULL' : /^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replaceAll("'", "''")}'`)).join(', ')})`;
}
