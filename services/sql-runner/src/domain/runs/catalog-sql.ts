/**
 * Catalog queries of the schema browser, run on the learner's instance.
 * Each is capped (one row past its cap tells the caller something was left
 * out), so a learner's huge schema costs a bounded answer.
 */

/** Most schemas, relations, columns, keys and indexes listed. */
export const CATALOG_CAPS = { schemas: 200, relations: 1_000, columns: 5_000, keys: 2_000, indexes: 2_000 } as const;

// Everything outside PostgreSQL's own catalogs is the learner's.
const LEARNERS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

export const SCHEMAS_SQL = `
SELECT n.nspname AS name FROM pg_namespace n WHERE ${LEARNERS}
 ORDER BY n.nspname LIMIT ${CATALOG_CAPS.schemas + 1}`;

// reltuples is -1 until the first VACUUM or ANALYZE. Until then: the statistics' live rows once the
// learner's backend has reported them (up to 10 s after its transaction), else what the planner assumes
// (pages on disk times the rows of the columns' widths that fit a page: varlena counted as 32 bytes).
export const RELATIONS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       CASE WHEN c.relkind IN ('v', 'f') THEN NULL
            WHEN c.reltuples >= 0 THEN c.reltuples::float8
            WHEN pg_stat_get_live_tuples(c.oid) > 0 THEN pg_stat_get_live_tuples(c.oid)::float8
            ELSE floor(pg_relation_size(c.oid) / current_setting('block_size')::float8
                       * (current_setting('block_size')::float8 - 24)
                       / (28 + (SELECT coalesce(sum(CASE WHEN t.typlen > 0 THEN t.typlen ELSE 32 END), 0)
                                  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)))
       END AS estimate
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${LEARNERS}
 ORDER BY n.nspname, c.relname LIMIT ${CATALOG_CAPS.relations + 1}`;

export const COLUMNS_SQL = `
SELECT a.attrelid::int8::text AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable
  FROM pg_attribute a
 WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum LIMIT ${CATALOG_CAPS.columns + 1}`;

const columnNames = (rel: string, keys: string) => `ARRAY(
  SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY u(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = u.attnum ORDER BY u.ord)`;

export const KEYS_SQL = `
SELECT k.conrelid::int8::text AS oid, k.conname AS name, k.contype AS kind,
       ${columnNames('k.conrelid', 'k.conkey')} AS columns,
       fn.nspname AS ref_schema, f.relname AS ref_table,
       CASE WHEN k.contype = 'f' THEN ${columnNames('k.confrelid', 'k.confkey')} END AS ref_columns
  FROM pg_constraint k
  LEFT JOIN pg_class f ON f.oid = k.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
 WHERE k.conrelid = ANY($1::oid[]) AND k.contype IN ('p', 'u', 'f')
 ORDER BY k.conrelid, CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 ELSE 2 END, k.conname LIMIT ${CATALOG_CAPS.keys + 1}`;

export const INDEXES_SQL = `
SELECT x.indrelid::int8::text AS oid, i.relname AS name, x.indisunique AS unique,
       pg_get_indexdef(x.indexrelid) AS definition
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
 WHERE x.indrelid = ANY($1::oid[])
 ORDER BY x.indrelid, NOT x.indisprimary, i.relname LIMIT ${CATALOG_CAPS.indexes + 1}`;

export interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  estimate: number | null;
}
export interface ColumnRow {
  oid: string;
  name: string;
  type: string;
  nullable: boolean;
}
export interface KeyRow {
  oid: string;
  name: string;
  kind: 'p' | 'u' | 'f';
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
}
export interface IndexRow {
  oid: string;
  name: string;
  unique: boolean;
  definition: string;
}
