import { constantInteger, isNoLimit, type PgNode } from '../sql/tree.js';
import { type Edit, type MutantOperator, text } from './operators.js';

const JOIN_TYPES = ['JOIN_INNER', 'JOIN_LEFT', 'JOIN_RIGHT', 'JOIN_FULL'];
const JOIN_WORDS: Record<string, string> = {
  JOIN_INNER: 'INNER JOIN',
  JOIN_LEFT: 'LEFT JOIN',
  JOIN_RIGHT: 'RIGHT JOIN',
  JOIN_FULL: 'FULL JOIN',
};
/** The edits of one SelectStmt body: DISTINCT, ORDER BY, LIMIT/OFFSET, GROUP BY keys, HAVING, UNION [ALL]. */
export function selectEdits(select: PgNode, isTop: boolean): Edit[] {
  const edits: Edit[] = [];
  const edit = (operator: MutantOperator, label: string, apply: (s: PgNode) => void) =>
    edits.push({ operator, label, apply: (n) => apply(n.SelectStmt) });
  const isSetOperation = select.op !== undefined && select.op !== 'SETOP_NONE';
  if (select.distinctClause) edit('distinct', 'DISTINCT dropped', (s) => delete s.distinctClause);
  else if (isTop && !isSetOperation && select.targetList)
    edit('distinct', 'DISTINCT added', (s) => {
      s.distinctClause = [{}];
    });
  if (isSetOperation && select.op === 'SETOP_UNION') {
    edit('distinct', select.all ? 'UNION ALL → UNION' : 'UNION → UNION ALL', (s) => {
      s.all = !s.all;
    });
  }
  const sortClause: PgNode[] = select.sortClause ?? [];
  if (sortClause.length > 0) edit('order-by', 'ORDER BY dropped', (s) => delete s.sortClause);
  for (const [i, item] of sortClause.entries()) {
    const sortBy = item.SortBy ?? {};
    const key = text(sortBy.node ?? {});
    const descending = sortBy.sortby_dir === 'SORTBY_DESC';
    edit('order-by', `ORDER BY ${key} ${descending ? 'DESC → ASC' : 'ASC → DESC'}`, (s) => {
      s.sortClause[i].SortBy.sortby_dir = descending ? 'SORTBY_ASC' : 'SORTBY_DESC';
    });
    if (sortClause.length > 1) {
      edit('order-by', `ORDER BY key ${key} dropped`, (s) => s.sortClause.splice(i, 1));
    }
  }
  const limit = isNoLimit(select.limitCount) ? undefined : constantInteger(select.limitCount);
  if (limit !== undefined) {
    edit('limit', `LIMIT ${limit} → ${limit + 1}`, (s) => {
      s.limitCount = { A_Const: { ival: { ival: limit + 1 } } };
    });
    if (limit > 1) {
      edit(
        'limit',
        `LIMIT ${limit} → ${limit - 1}`,
        (s) => (s.limitCount = { A_Const: { ival: { ival: limit - 1 } } }),
      );
    }
    edit('limit', 'LIMIT dropped', (s) => {
      delete s.limitCount;
      s.limitOption = 'LIMIT_OPTION_DEFAULT';
    });
  }
  const offset = select.limitOffset === undefined ? undefined : constantInteger(select.limitOffset);
  if (offset !== undefined) {
    edit(
      'limit',
      `OFFSET ${offset} → ${offset + 1}`,
      (s) => (s.limitOffset = { A_Const: { ival: { ival: offset + 1 } } }),
    );
    if (offset > 0) edit('limit', 'OFFSET dropped', (s) => delete s.limitOffset);
  }
  const groupClause: PgNode[] = select.groupClause ?? [];
  if (groupClause.length > 1) {
    for (const [i, key] of groupClause.entries()) {
      edit('group-by', `GROUP BY key ${text(key)} dropped`, (s) => s.groupClause.splice(i, 1));
    }
  }
  if (select.havingClause) edit('group-by', 'HAVING dropped', (s) => delete s.havingClause);
  return edits;
}

/** The edits of a JoinExpr: the join type changed to each other one (a cross join has none). */
export function joinEdits(join: PgNode): Edit[] {
  const body = join.JoinExpr;
  const isCross = body.jointype === 'JOIN_INNER' && !body.quals && !body.usingClause && !body.isNatural;
  if (isCross || !JOIN_TYPES.includes(body.jointype)) return [];
  const relation = body.rarg?.RangeVar?.relname ?? 'a subquery';
  return JOIN_TYPES.filter((t) => t !== body.jointype).map((other) => ({
    operator: 'join-type' as const,
    label: `${JOIN_WORDS[body.jointype]} ${relation} → ${JOIN_WORDS[other]}`,
    apply: (n: PgNode) => {
      n.JoinExpr.jointype = other;
    },
  }));
}
