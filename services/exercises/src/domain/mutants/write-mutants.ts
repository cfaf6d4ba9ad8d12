import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { ExercisesError } from '../../errors.js';
import type { PgNode } from '../sql/tree.js';
import { joinEdits, selectEdits } from './clause-edits.js';
import { at, clauseOf, DEFAULT_MAX_MUTANTS, type Mutant, roundRobin, walk } from './generate.js';
import { type Edit, expressionEdits, type MutantOperator } from './operators.js';

/** Statements whose WHERE a mutant may drop: the rows a write touches. */
const FILTERED = new Set(['UpdateStmt', 'DeleteStmt']);

/** The statements of a write or DDL reference with their place in its text (bytes: the parser counts bytes). */
export function parseStatements(sql: string): { stmt: PgNode; start: number; end: number }[] {
  let tree: { stmts?: { stmt?: PgNode; stmt_location?: number; stmt_len?: number }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (error) {
    throw new ExercisesError('EXERCISES_REFERENCE_SYNTAX', 'The reference solution does not parse.', { cause: error });
  }
  const bytes = Buffer.byteLength(sql);
  return (tree.stmts ?? []).flatMap((s) => {
    if (!s.stmt) return [];
    const start = s.stmt_location ?? 0;
    return [{ stmt: s.stmt, start, end: s.stmt_len ? start + s.stmt_len : bytes }];
  });
}

/**
 * Mutants of a write or DDL reference, one statement changed at a time and the others kept as written:
 * an UPDATE's or DELETE's WHERE dropped (every row touched), and the operators of query mutants on every
 * expression and sub-SELECT (comparison and boolean operators, a condition left out, NULL handling,
 * literals ±1, aggregates, join types). The changed statement is printed by pgsql-deparser; one it cannot
 * print is left out. Taken in turn per operator past `maxMutants`, as query mutants are.
 */
export function generateWriteMutants(referenceSql: string, maxMutants = DEFAULT_MAX_MUTANTS): Mutant[] {
  const statements = parseStatements(referenceSql);
  const text = Buffer.from(referenceSql);
  const seen = new Set<string>();
  const byOperator = new Map<MutantOperator, Mutant[]>();
  for (const [index, { stmt, start, end }] of statements.entries()) {
    const sites: { path: (string | number)[]; edit: Edit }[] = [];
    const [kind] = Object.keys(stmt);
    if (kind && FILTERED.has(kind) && stmt[kind].whereClause) {
      sites.push({
        path: [],
        edit: { operator: 'boolean', label: 'WHERE dropped', apply: (node) => delete node[kind].whereClause },
      });
    }
    walk(stmt, [], (node, path) => {
      if (path.length === 0) return;
      const edits = node.SelectStmt
        ? selectEdits(node.SelectStmt, false)
        : node.JoinExpr
          ? joinEdits(node)
          : expressionEdits(node, path);
      const where = kind === 'UpdateStmt' && path[1] === 'targetList' ? 'SET' : clauseOf(path);
      for (const edit of edits)
        sites.push({ path, edit: where ? { ...edit, label: `${edit.label} (in ${where})` } : edit });
    });
    const prefix = statements.length > 1 ? `statement ${index + 1}: ` : '';
    const print = (tree: PgNode) => deparseSync({ version: 0, stmts: [{ stmt: tree }] } as any, { pretty: false });
    const splice = (changed: string) =>
      `${text.subarray(0, start).toString()}${start > 0 ? ' ' : ''}${changed}${text.subarray(end).toString()}`;
    try {
      // The statement as printed unchanged: an edit that prints the same is no mutant.
      seen.add(splice(print(stmt)));
    } catch {
      // Not printable at all: none of its mutants would be either.
      continue;
    }
    for (const { path, edit } of sites) {
      const copy = structuredClone(stmt);
      edit.apply(path.length === 0 ? copy : at(copy, path));
      let changed: string;
      try {
        changed = print(copy);
      } catch {
        // A tree the deparser cannot print is a mutant PostgreSQL would not run either.
        continue;
      }
      const sql = splice(changed);
      if (seen.has(sql)) continue;
      seen.add(sql);
      const list = byOperator.get(edit.operator) ?? [];
      list.push({ operator: edit.operator, label: `${prefix}${edit.label}`, sql });
      byOperator.set(edit.operator, list);
    }
  }
  return roundRobin([...byOperator.values()], maxMutants);
}
