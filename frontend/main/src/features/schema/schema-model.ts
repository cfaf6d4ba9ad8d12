import type { RunView } from '../run/run-model.js';

/**
 * Command tags after which the catalog may differ: DDL, and `SELECT` as a
 * statement without rows (`CREATE TABLE … AS`, `SELECT … INTO` report it).
 * DML is left out: it changes row estimates only, which ANALYZE (listed) settles.
 */
const SCHEMA_COMMANDS =
  /^(CREATE|ALTER|DROP|TRUNCATE|COMMENT|GRANT|REVOKE|IMPORT|REINDEX|CLUSTER|ANALYZE|VACUUM|REFRESH|SECURITY|SELECT)\b/;

/**
 * Whether the schema browser should read the catalog again after this run:
 * a statement of it changed the schema (its `complete` events say which ran),
 * or the run started from another state than the session's instance was in.
 */
export function changesSchema(run: RunView): boolean {
  if (run.done && run.done.source !== 'session') return true;
  if (!run.done && run.error?.phase !== 'execute') return true;
  return run.commands.some((c) => SCHEMA_COMMANDS.test(c.command));
}

/** PostgreSQL's reserved key words that cannot stand as a plain identifier (the common ones learners name things). */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning ' +
    'select session_user some symmetric system_user table then to trailing true union unique user using variadic when ' +
    'where window with'
  ).split(' '),
);

/** An identifier as it must be typed: bare when PostgreSQL would read it back unchanged, else double-quoted. */
export function quoteIdent(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** A table's name as inserted: schema-qualified unless it lives in `public`. */
export function tableReference(schema: string, name: string): string {
  return schema === 'public' ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A row estimate in a few characters: 12, 3.4k, 1.2M; "?" when unknown. */
export function formatEstimate(rows: number | null): string {
  if (rows === null || rows < 0) return '?';
  if (rows < 1_000) return String(Math.round(rows));
  if (rows < 1_000_000) return `${(rows / 1_000).toFixed(rows < 10_000 ? 1 : 0)}k`;
  return `${(rows / 1_000_000).toFixed(rows < 10_000_000 ? 1 : 0)}M`;
}
