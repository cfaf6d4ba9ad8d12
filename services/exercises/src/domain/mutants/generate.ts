import { deparseSelect, type PgNode, parseSelect } from '../sql/tree.js';
import { joinEdits, selectEdits } from './clause-edits.js';
import { type Edit, expressionEdits, type MutantOperator } from './operators.js';

/** A wrong variant of the reference: what changed, and its SQL. */
export interface Mutant {
  operator: MutantOperator;
  label: string;
  sql: string;
}

/** Most mutants one publish makes by default; each costs a run on every dataset. */
export const DEFAULT_MAX_MUTANTS = 60;

/**
 * Mutants of a reference SELECT, made on its parse tree and deparsed:
 * join types, comparison and boolean operators (a condition left out),
 * DISTINCT and UNION ALL, ORDER BY dropped or a key reversed or dropped,
 * LIMIT/OFFSET changed, GROUP BY keys and HAVING dropped, aggregates and
 * ranking functions swapped, NULL handling (IS [NOT] NULL, COALESCE,
 * count(x) against count(*)), numeric literals changed. Each mutant differs
 * from the reference's text and from every other; past `maxMutants`, they
 * are taken in turn from each operator so every kind stays represented.
 */
export function generateMutants(referenceSql: string, maxMutants = DEFAULT_MAX_MUTANTS): Mutant[] {
  const reference = parseSelect(referenceSql);
  const sites: { path: (string | number)[]; edit: Edit }[] = [];
  walk({ SelectStmt: reference }, [], (node, path) => {
    const edits = node.SelectStmt
      ? selectEdits(node.SelectStmt, path.length === 0)
      : node.JoinExpr
        ? joinEdits(node)
        : expressionEdits(node, path);
    const where = clauseOf(path);
    for (const edit of edits)
      sites.push({ path, edit: where ? { ...edit, label: `${edit.label} (in ${where})` } : edit });
  });
  const seen = new Set([deparseSelect(reference)]);
  const byOperator = new Map<MutantOperator, Mutant[]>();
  for (const { path, edit } of sites) {
    const copy: PgNode = { SelectStmt: structuredClone(reference) };
    edit.apply(at(copy, path));
    let sql: string;
    try {
      sql = deparseSelect(copy.SelectStmt);
    } catch {
      // A tree the deparser cannot print is a mutant PostgreSQL would not run either.
      continue;
    }
    if (seen.has(sql)) continue;
    seen.add(sql);
    const list = byOperator.get(edit.operator) ?? [];
    list.push({ operator: edit.operator, label: edit.label, sql });
    byOperator.set(edit.operator, list);
  }
  return roundRobin([...byOperator.values()], maxMutants);
}

/** Visits every node object (`{ Kind: {…} }`) of the tree with its path, parents before children. */
export function walk(
  node: unknown,
  path: (string | number)[],
  visit: (node: PgNode, path: (string | number)[]) => void,
): void {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) walk(item, [...path, i], visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const keys = Object.keys(node);
  const [kind] = keys;
  const isNode = keys.length === 1 && kind !== undefined && /^[A-Z]/.test(kind);
  if (isNode) visit(node as PgNode, path);
  for (const key of keys) walk((node as PgNode)[key], [...path, key], visit);
}

const CLAUSES: Record<string, string> = {
  targetList: 'SELECT',
  fromClause: 'FROM',
  whereClause: 'WHERE',
  groupClause: 'GROUP BY',
  havingClause: 'HAVING',
  sortClause: 'ORDER BY',
  windowClause: 'WINDOW',
  withClause: 'WITH',
};

/** The innermost clause an expression sits in, so two equal edits in WHERE and HAVING read apart. */
export function clauseOf(path: readonly (string | number)[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const clause = CLAUSES[String(path[i])];
    if (clause) return clause;
  }
  return undefined;
}

export function at(root: PgNode, path: readonly (string | number)[]): PgNode {
  let node: any = root;
  for (const key of path) node = node[key];
  return node as PgNode;
}

export function roundRobin(lists: Mutant[][], max: number): Mutant[] {
  const taken: Mutant[] = [];
  for (let round = 0; taken.length < max && lists.some((l) => l.length > round); round++) {
    for (const list of lists) {
      const mutant = list[round];
      if (mutant && taken.length < max) taken.push(mutant);
    }
  }
  return taken;
}
