import { parseSync } from 'libpg-query';
import { ChainStatementError, ChainSyntaxError } from './errors.js';
import type { SourceText } from './source-text.js';
import type { StatementText } from './statement-text.js';

/** A statement the parser accepted: its node name and parse tree. */
export interface ParsedStatement {
  kind: string;
  node: Record<string, unknown>;
}

/** UTF-16 index in `text` of the code point at `codePoints` (parser positions count code points). */
function codePointIndex(text: string, codePoints: number): number {
  if (!/[\uD800-\uDFFF]/.test(text)) return Math.min(codePoints, text.length);
  let index = 0;
  for (let n = 0; n < codePoints && index < text.length; n++) {
    const code = text.charCodeAt(index);
    index += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return index;
}

interface ParserError {
  message?: string;
  sqlDetails?: { message?: string; cursorPosition?: number };
}

/**
 * Parses one statement's text with PostgreSQL's own parser. Returns undefined
 * when the text holds no statement (only comments). A parser error becomes a
 * ChainSyntaxError pointing at the offending token in the file, through the
 * statement's map of where each character came from. `semicolonAt` is the
 * file index of the terminating ';' when there is one: psql sends it, so the
 * parser must see it to report what the server would.
 */
export function parseStatement(
  sql: string,
  statement: StatementText,
  source: SourceText,
  semicolonAt?: number,
): ParsedStatement | undefined {
  let stmts: Array<{ stmt?: unknown }>;
  const text = semicolonAt === undefined ? sql : `${sql};`;
  try {
    stmts = (parseSync(text) as { stmts?: Array<{ stmt?: unknown }> }).stmts ?? [];
  } catch (error) {
    const details = (error as ParserError).sqlDetails;
    if (details === undefined) {
      // Not PostgreSQL's error but the parser's runtime giving up (stack, WASM heap, the tree's JSON): the
      // statement is too big for it, which PostgreSQL reports as 54001 too.
      const { line } = source.point(statement.start);
      throw new ChainStatementError(
        'SQL_RUNNER_STATEMENT_TOO_COMPLEX',
        `line ${line}: the statement is too large or too deeply nested to be parsed`,
        source.location(statement.start),
      );
    }
    const message = details.message ?? (error as ParserError).message ?? 'syntax error';
    const cursor = details.cursorPosition;
    const index = cursor === undefined || cursor < 0 ? -1 : codePointIndex(text, cursor);
    const at =
      index < 0
        ? statement.start
        : semicolonAt !== undefined && index >= sql.length
          ? semicolonAt
          : statement.sourceIndex(index);
    throw new ChainSyntaxError(message, source.location(at));
  }
  if (stmts.length === 0) return undefined;
  if (stmts.length > 1) {
    const { line } = source.point(statement.start);
    throw new ChainStatementError(
      'SQL_RUNNER_MULTIPLE_STATEMENTS',
      `psql would send the ${stmts.length} statements starting on line ${line} as one query; end the function body with END before ";"`,
      source.location(statement.start),
    );
  }
  const node = (stmts[0]?.stmt ?? {}) as Record<string, unknown>;
  const kind = Object.keys(node)[0] ?? 'Unknown';
  return { kind, node: (node[kind] ?? {}) as Record<string, unknown> };
}

/** True for COPY ... FROM STDIN, whose data psql reads from the script itself. */
export function isCopyFromStdin(parsed: ParsedStatement): boolean {
  return (
    parsed.kind === 'CopyStmt' &&
    parsed.node.is_from === true &&
    parsed.node.filename === undefined &&
    parsed.node.is_program !== true
  );
}

/** True for COPY ... TO STDOUT, whose data comes back through the connection. */
export function isCopyToStdout(parsed: ParsedStatement): boolean {
  return (
    parsed.kind === 'CopyStmt' &&
    parsed.node.is_from !== true &&
    parsed.node.filename === undefined &&
    parsed.node.is_program !== true
  );
}

/** True when a COPY's options ask for the binary format. */
export function isBinaryCopy(parsed: ParsedStatement): boolean {
  const options = (parsed.node.options ?? []) as Array<{ DefElem?: { defname?: string; arg?: unknown } }>;
  return options.some((option) => {
    const def = option.DefElem;
    if (def?.defname === 'binary') return true;
    return (
      def?.defname === 'format' &&
      JSON.stringify(def.arg ?? '')
        .toLowerCase()
        .includes('"binary"')
    );
  });
}

/** The value a SET of standard_conforming_strings gives it, or undefined for any other statement. */
export function standardStringsSetting(parsed: ParsedStatement): string | undefined {
  if (parsed.kind !== 'VariableSetStmt' || parsed.node.name !== 'standard_conforming_strings') return undefined;
  if (parsed.node.kind !== 'VAR_SET_VALUE') return 'on';
  const arg = (
    (parsed.node.args ?? []) as Array<{ A_Const?: { sval?: { sval?: string }; ival?: { ival?: number } } }>
  )[0]?.A_Const;
  if (arg?.ival) return arg.ival.ival ? 'on' : 'off';
  const value = (arg?.sval?.sval ?? 'on').toLowerCase();
  return ['off', 'of', 'false', 'fals', 'fal', 'fa', 'f', 'no', 'n', '0'].includes(value) ? 'off' : 'on';
}
