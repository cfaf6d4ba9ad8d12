import { constantInteger, deparseExpression, type PgNode } from '../sql/tree.js';

/** The kinds of mutation, as the publish report groups survivors. */
export type MutantOperator =
  | 'join-type'
  | 'comparison'
  | 'boolean'
  | 'distinct'
  | 'order-by'
  | 'limit'
  | 'group-by'
  | 'aggregate'
  | 'null-handling'
  | 'literal';

/** One mutation of the tree: what it changes, in an author's words, and the change applied to a copy. */
export interface Edit {
  operator: MutantOperator;
  label: string;
  /** Changes the node (the copy's node at the visited path) in place. */
  apply(node: PgNode): void;
}

const COMPARISONS = ['=', '<>', '<', '<=', '>', '>='];
/** Aggregates and ranking functions swapped for their nearest wrong neighbours. */
const FUNCTION_SWAPS: Record<string, string[]> = {
  min: ['max'],
  max: ['min'],
  sum: ['avg', 'count'],
  avg: ['sum'],
  count: ['sum'],
  rank: ['dense_rank', 'row_number'],
  dense_rank: ['rank', 'row_number'],
  row_number: ['rank'],
};

/** An expression's SQL text for a label. */
export const text = (expression: PgNode): string => {
  try {
    return deparseExpression(expression);
  } catch {
    // A node the deparser cannot print alone (a JoinExpr, a SortBy) is labelled without its text.
    return '…';
  }
};

/** An edit that replaces the visited expression node with `next(copy)`, labelled `before → after`. */
function replaceWith(operator: MutantOperator, node: PgNode, next: (copy: PgNode) => PgNode): Edit {
  const after = next(structuredClone(node));
  return {
    operator,
    label: `${text(node)} → ${text(after)}`,
    apply(target) {
      for (const key of Object.keys(target)) delete target[key];
      Object.assign(target, structuredClone(after));
    },
  };
}

/** An edit that changes a copy of the visited expression node in place. */
function modify(operator: MutantOperator, node: PgNode, mutate: (copy: PgNode) => void): Edit {
  return replaceWith(operator, node, (copy) => {
    mutate(copy);
    return copy;
  });
}

/** The edits of one expression node (`{ A_Expr: … }`, `{ FuncCall: … }`, …) at `path` in the tree. */
export function expressionEdits(node: PgNode, path: readonly (string | number)[]): Edit[] {
  const edits: Edit[] = [];
  const [kind] = Object.keys(node);
  const body = kind ? node[kind] : undefined;
  if (!kind || !body) return edits;
  if (kind === 'A_Expr' && body.kind === 'AEXPR_OP' && body.name?.length === 1) {
    const op: string = body.name[0]?.String?.sval === '!=' ? '<>' : body.name[0]?.String?.sval;
    if (COMPARISONS.includes(op)) {
      for (const other of COMPARISONS.filter((o) => o !== op)) {
        edits.push(
          modify('comparison', node, (c) => {
            c.A_Expr.name = [{ String: { sval: other } }];
          }),
        );
      }
    }
  }
  if (kind === 'A_Expr' && body.kind === 'AEXPR_IN') {
    const negated = body.name?.[0]?.String?.sval === '<>';
    edits.push(
      modify('comparison', node, (c) => {
        c.A_Expr.name = [{ String: { sval: negated ? '=' : '<>' } }];
      }),
    );
  }
  if (kind === 'BoolExpr') {
    if (body.boolop === 'NOT_EXPR' && body.args?.[0])
      edits.push(replaceWith('boolean', node, (c) => c.BoolExpr.args[0]));
    if (body.boolop === 'AND_EXPR' || body.boolop === 'OR_EXPR') {
      const other = body.boolop === 'AND_EXPR' ? 'OR_EXPR' : 'AND_EXPR';
      edits.push(
        modify('boolean', node, (c) => {
          c.BoolExpr.boolop = other;
        }),
      );
      const args: PgNode[] = body.args ?? [];
      for (const [i] of args.entries()) {
        // A condition left out is the most common wrong WHERE; for OR it is a branch left out.
        edits.push(
          replaceWith('boolean', node, (c) => {
            const rest = c.BoolExpr.args.filter((_: PgNode, j: number) => j !== i);
            if (rest.length === 1) return rest[0];
            c.BoolExpr.args = rest;
            return c;
          }),
        );
      }
    }
  }
  if (kind === 'NullTest') {
    const other = body.nulltesttype === 'IS_NULL' ? 'IS_NOT_NULL' : 'IS_NULL';
    edits.push(
      modify('null-handling', node, (c) => {
        c.NullTest.nulltesttype = other;
      }),
    );
  }
  if (kind === 'CoalesceExpr' && body.args?.[0]) {
    edits.push(replaceWith('null-handling', node, (c) => c.CoalesceExpr.args[0]));
  }
  if (kind === 'FuncCall' && body.funcname?.length === 1) {
    edits.push(...functionEdits(node, body));
  }
  if (kind === 'A_Const' && !isPositionOrLimit(path)) {
    const value = constantInteger(node);
    const float = body.fval?.fval !== undefined ? Number(body.fval.fval) : undefined;
    if (value !== undefined) {
      for (const next of [value + 1, value - 1]) {
        edits.push(replaceWith('literal', node, () => ({ A_Const: { ival: { ival: next } } })));
      }
    } else if (float !== undefined && Number.isFinite(float)) {
      edits.push(replaceWith('literal', node, () => ({ A_Const: { fval: { fval: String(float + 1) } } })));
    }
  }
  return edits;
}

function functionEdits(node: PgNode, body: PgNode): Edit[] {
  const edits: Edit[] = [];
  const name: string = body.funcname[0]?.String?.sval ?? '';
  const ranking = name === 'rank' || name === 'dense_rank' || name === 'row_number';
  if (!ranking && !body.agg_star && (body.args?.length ?? 0) !== 1) return edits;
  for (const other of FUNCTION_SWAPS[name] ?? []) {
    if (body.agg_star && other !== 'count') continue;
    edits.push(
      modify('aggregate', node, (c) => {
        c.FuncCall.funcname = [{ String: { sval: other } }];
      }),
    );
  }
  if (name === 'count' && !body.agg_star) {
    // count(x) against count(*): NULLs in x are what tell them apart.
    edits.push(
      replaceWith('null-handling', node, (c) => {
        delete c.FuncCall.args;
        delete c.FuncCall.agg_distinct;
        c.FuncCall.agg_star = true;
        return c;
      }),
    );
  }
  if (['count', 'sum', 'avg'].includes(name) && !body.agg_star) {
    edits.push(
      modify('aggregate', node, (c) => {
        c.FuncCall.agg_distinct = !c.FuncCall.agg_distinct;
      }),
    );
  }
  return edits;
}

/** Constants that are ORDER BY/GROUP BY positions or LIMIT/OFFSET counts have their own operators. */
function isPositionOrLimit(path: readonly (string | number)[]): boolean {
  const parent = path[path.length - 1];
  const grand = path[path.length - 2];
  return parent === 'limitCount' || parent === 'limitOffset' || parent === 'node' || grand === 'groupClause';
}
