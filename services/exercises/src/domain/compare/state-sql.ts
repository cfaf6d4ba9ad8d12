/**
 * The catalog and content queries of the state comparison. Names are
 * quoted by `format('%I')` in PostgreSQL itself; constraint and index
 * names are left out of the descriptions, because a learner's
 * `CREATE INDEX ON t (c)` names its index differently from the author's
 * and is still the same index.
 */

/** Every table, view and materialized view of the schemas `$1`. */
export const RELATIONS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       format('%I.%I', n.nspname, c.relname) AS qualified
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
 ORDER BY 1, 2`;

/** One line per column, constraint and index of the schemas `$1`, as the schema comparison reads them. */
export const CATALOG_SQL = `
WITH rel AS (
  SELECT c.oid, c.relkind, format('%I.%I', n.nspname, c.relname) AS qualified
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
)
SELECT CASE rel.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'table ' END || rel.qualified AS line
  FROM rel
UNION ALL
SELECT format('column %s.%I %s%s%s', rel.qualified, a.attname, format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
              CASE WHEN d.adbin IS NULL THEN '' ELSE ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END)
  FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
UNION ALL
SELECT format('constraint on %s: %s', rel.qualified, pg_get_constraintdef(k.oid))
  FROM rel JOIN pg_constraint k ON k.conrelid = rel.oid AND k.contype <> 'n'
UNION ALL
SELECT format('index on %s: %s', rel.qualified, regexp_replace(pg_get_indexdef(i.indexrelid), '^(CREATE (UNIQUE )?INDEX )\\S+ ON ', '\\1ON '))
  FROM rel JOIN pg_index i ON i.indrelid = rel.oid
 ORDER BY 1`;

/** Row count and a digest of a table's rows in a fixed order; `%s` is the quoted table name. */
export const TABLE_DIGEST_SQL = `SELECT count(*)::bigint AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS digest FROM %s AS t`;

/** A table's rows as their record text, sorted, at most `$1` of them; `%s` is the quoted table name. */
export const TABLE_ROWS_SQL = 'SELECT t::text AS row FROM %s AS t ORDER BY 1 LIMIT $1';
