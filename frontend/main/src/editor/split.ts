/** A statement of the buffer with its character range (end exclusive, after the `;` when present). */
export interface StatementRange {
  start: number;
  end: number;
  text: string;
}

/** Length of a dollar-quote tag (`$$`, `$body$`) at `i`, or 0. */
function dollarTagAt(sql: string, i: number): number {
  const match = /^\$[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*\$|^\$\$/.exec(sql.slice(i, i + 64));
  return match ? match[0].length : 0;
}

/**
 * Splits SQL at top-level semicolons, skipping quotes, dollar quotes and
 * comments. The server parses again with PostgreSQL's own grammar; this only
 * finds the statement under the cursor.
 */
export function splitStatements(sql: string): StatementRange[] {
  const out: StatementRange[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end);
    if (text.trim() !== '') out.push({ start, end, text });
    start = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        const pair = sql.slice(i, i + 2);
        depth += pair === '/*' ? 1 : pair === '*/' ? -1 : 0;
        i += pair === '/*' || pair === '*/' ? 2 : 1;
      }
    } else if (c === "'" || c === '"') {
      i++;
      while (i < sql.length) {
        if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && dollarTagAt(sql, i) > 0) {
      const tag = sql.slice(i, i + dollarTagAt(sql, i));
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
    } else if (c === ';') {
      i++;
      push(i);
    } else {
      i++;
    }
  }
  push(sql.length);
  return out;
}

/** The statement containing `offset`, or the one just before it when the cursor sits after a `;`. */
export function statementAt(sql: string, offset: number): StatementRange | undefined {
  const statements = splitStatements(sql);
  const inside = statements.find(
    (s) => offset >= s.start && offset <= s.end && sql.slice(s.start, offset).trim() !== '',
  );
  if (inside) return inside;
  return [...statements].reverse().find((s) => s.end <= offset) ?? statements[0];
}
