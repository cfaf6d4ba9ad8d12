import { loadModule, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { ExercisesError } from '../../errors.js';

/**
 * A node of libpg-query's JSON parse tree (`{ SelectStmt: {…} }`, `{ A_Const: {…} }`).
 * Kept loose on purpose: the mutant generator and the ORDER BY reader walk and
 * rewrite it generically, and @pgsql/types' unions would only be cast away.
 */
export type PgNode = Record<string, any>;

/** The parser's WASM module, loaded once per process before any parseSync. */
export function loadParser(): Promise<void> {
  return loadModule();
}

/**
 * The one SELECT of a reference solution (a CTE, VALUES or a set operation
 * included): its `SelectStmt` body. Anything else (two statements, a write,
 * a syntax error) is refused, because only a query's result set can be
 * compared row by row and mutated.
 */
export function parseSelect(sql: string): PgNode {
  let tree: { stmts?: { stmt?: PgNode }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (error) {
    throw new ExercisesError('EXERCISES_REFERENCE_SYNTAX', 'The reference solution does not parse.', { cause: error });
  }
  const statements = tree.stmts ?? [];
  const select = statements[0]?.stmt?.SelectStmt as PgNode | undefined;
  if (statements.length !== 1 || !select) {
    throw new ExercisesError(
      'EXERCISES_REFERENCE_NOT_A_QUERY',
      'The reference solution of a query exercise must be exactly one SELECT (WITH, VALUES and UNION included).',
    );
  }
  return select;
}

/**
 * SQL text for a SelectStmt body. The deparser prints `FETCH FIRST n ROWS
 * WITH TIES` as a plain `LIMIT n` (a different query on ties), so a WITH TIES
 * count is taken out of the tree and written back after the deparsed text,
 * where the grammar puts it (after ORDER BY and OFFSET).
 */
export function deparseSelect(select: PgNode): string {
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES' && select.limitCount && !select.lockingClause) {
    const { limitCount, ...rest } = select;
    const count = deparseSync(
      { version: 0, stmts: [{ stmt: { SelectStmt: { ...rest, limitOption: 'LIMIT_OPTION_DEFAULT' } } }] } as any,
      {
        pretty: false,
      },
    );
    const countText = deparseExpression(limitCount);
    return `${count} FETCH FIRST (${countText}) ROWS WITH TIES`;
  }
  return deparseSync({ version: 0, stmts: [{ stmt: { SelectStmt: select } }] } as any, { pretty: false });
}

/** SQL text of one expression node, by deparsing `SELECT <expr>` and taking the expression back. */
export function deparseExpression(expression: PgNode): string {
  const text = deparseSync(
    {
      version: 0,
      stmts: [
        {
          stmt: {
            SelectStmt: {
              targetList: [{ ResTarget: { val: expression } }],
              limitOption: 'LIMIT_OPTION_DEFAULT',
              op: 'SETOP_NONE',
            },
          },
        },
      ],
    } as any,
    { pretty: false },
  );
  return text.replace(/^SELECT /, '');
}

/** The integer an `A_Const` holds (`{ ival: {} }` is 0), or undefined for anything else. */
export function constantInteger(node: PgNode | undefined): number | undefined {
  const constant = node?.A_Const;
  if (!constant || constant.isnull || !constant.ival) return undefined;
  return typeof constant.ival.ival === 'number' ? constant.ival.ival : 0;
}

/** Whether a LIMIT node is absent or `LIMIT ALL` (`LIMIT NULL`), i.e. no limit. */
export function isNoLimit(node: PgNode | undefined): boolean {
  return node === undefined || node.A_Const?.isnull === true;
}

/** The column name PostgreSQL gives a target list entry: its alias, a column's last name, a function's name. */
export function outputName(target: PgNode): string | undefined {
  const res = target.ResTarget;
  if (!res) return undefined;
  if (typeof res.name === 'string') return res.name;
  const fields: PgNode[] | undefined = res.val?.ColumnRef?.fields;
  const last = fields?.[fields.length - 1];
  if (last?.String) return last.String.sval;
  const funcname: PgNode[] | undefined = res.val?.FuncCall?.funcname;
  return funcname?.[funcname.length - 1]?.String?.sval;
}
