import { constantInteger, deparseSelect, isNoLimit, outputName, type PgNode, parseSelect } from '../sql/tree.js';

/** Where one ORDER BY key's value is read in a row of the keyed reference result. */
export type SortKeySource =
  /** An output column named this way (`ORDER BY total` where total is a select-list name). */
  | { kind: 'output'; name: string }
  /** An output column by position, 0-based (`ORDER BY 2` is index 1). */
  | { kind: 'position'; index: number }
  /** A hidden column appended for an expression the result does not show, 0-based among the hidden ones. */
  | { kind: 'hidden'; index: number };

/**
 * How the grader runs a reference query so that only the order its ORDER BY
 * determines is enforced: `sql` is the author's query with every ORDER BY
 * expression the result does not show appended as a hidden column (its
 * tie groups become visible), and a LIMIT/OFFSET replaced by `FETCH FIRST
 * offset+count ROWS WITH TIES` from row 0, so rows tied with the first or
 * last row the author's query returns are known; `window` says which of
 * those rows the author's query returns.
 */
export interface ReferencePlan {
  sql: string;
  /** The reference has a top-level ORDER BY: by default answers are compared in order. */
  hasOrderBy: boolean;
  keys: SortKeySource[];
  /** How many columns at the end of the keyed result are hidden sort keys. */
  hiddenColumns: number;
  /** The rows of the keyed result the author's query returns: from `offset`, `count` of them (null: all). */
  window: { offset: number; count: number | null };
  /** What makes the reference's own answer depend on chance, for the author to fix before publishing. */
  warnings: string[];
}

/** A hidden sort key's column name; the prefix keeps it clear of names an author would choose. */
export const HIDDEN_KEY_PREFIX = '__taidon_order_key_';

/**
 * Reads the reference's top-level ORDER BY and LIMIT/OFFSET from its parse
 * tree and answers how to run it keyed. A LIMIT or OFFSET that is not a
 * constant (a subquery, a parameter) or a locking clause leaves the query
 * as written: the window is then all it returns, and ties at its edge are
 * not extended (the author's order is taken as the only one).
 */
export function planReference(referenceSql: string): ReferencePlan {
  const select = structuredClone(parseSelect(referenceSql));
  const sortClause: PgNode[] = select.sortClause ?? [];
  const hasOrderBy = sortClause.length > 0;
  const targets: PgNode[] = select.targetList ?? [];
  const isSetOperation = select.op !== undefined && select.op !== 'SETOP_NONE';
  const names = new Set(targets.map(outputName).filter((n): n is string => n !== undefined));
  const keys: SortKeySource[] = [];
  const hidden: PgNode[] = [];
  for (const item of sortClause) {
    const node: PgNode = item.SortBy?.node ?? {};
    const position = constantInteger(node);
    const fields: PgNode[] | undefined = node.ColumnRef?.fields;
    const bare = fields?.length === 1 ? (fields[0]?.String?.sval as string | undefined) : undefined;
    if (position !== undefined) keys.push({ kind: 'position', index: position - 1 });
    else if (bare !== undefined && (isSetOperation || names.has(bare))) keys.push({ kind: 'output', name: bare });
    else {
      keys.push({ kind: 'hidden', index: hidden.length });
      hidden.push({ ResTarget: { name: `${HIDDEN_KEY_PREFIX}${hidden.length + 1}`, val: structuredClone(node) } });
    }
  }
  // A set operation's ORDER BY can only name output columns, so nothing is ever appended to one.
  if (hidden.length > 0) select.targetList = [...targets, ...hidden];
  const limited = !isNoLimit(select.limitCount) || select.limitOffset !== undefined;
  const constant =
    (isNoLimit(select.limitCount) || constantInteger(select.limitCount) !== undefined) &&
    (select.limitOffset === undefined || constantInteger(select.limitOffset) !== undefined);
  const window = extendLimitWithTies(select, hasOrderBy);
  const warnings: string[] = [];
  if (limited && !hasOrderBy) {
    warnings.push('The reference has LIMIT or OFFSET without ORDER BY: which rows it returns is left to chance.');
  } else if (limited && !constant) {
    warnings.push(
      'The reference’s LIMIT or OFFSET is not a constant: rows tied at its edge are graded as the author’s.',
    );
  }
  return { sql: deparseSelect(select), hasOrderBy, keys, hiddenColumns: hidden.length, window, warnings };
}

/** Rewrites a constant LIMIT/OFFSET of an ordered query in place as FETCH … WITH TIES from row 0; answers the window. */
function extendLimitWithTies(select: PgNode, hasOrderBy: boolean): ReferencePlan['window'] {
  const all = { offset: 0, count: null };
  if (!hasOrderBy || select.lockingClause || select.limitOption === 'LIMIT_OPTION_WITH_TIES') return all;
  const offset = select.limitOffset === undefined ? 0 : constantInteger(select.limitOffset);
  const noLimit = isNoLimit(select.limitCount);
  const count = noLimit ? null : constantInteger(select.limitCount);
  if (offset === undefined || (!noLimit && count === undefined)) return all;
  delete select.limitOffset;
  if (count === null || count === undefined) {
    delete select.limitCount;
    select.limitOption = 'LIMIT_OPTION_DEFAULT';
  } else {
    select.limitCount = { A_Const: { ival: { ival: offset + count } } };
    select.limitOption = 'LIMIT_OPTION_WITH_TIES';
  }
  return { offset, count: count ?? null };
}
