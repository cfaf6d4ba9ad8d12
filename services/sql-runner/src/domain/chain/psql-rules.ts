/** Character classes and lookaheads of psqlscan.l that the lexer shares. */
export const SPACE = /[ \t\n\r\f]/;
export const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
export const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
export const OP_CHARS = '~!@#^&|`?+-*/%<>=';

/**
 * psql's {quotecontinue} lookahead after a closing quote: whitespace holding a
 * newline, then another quote, continues the literal. psql reads its input a
 * line at a time, so only a '\r' can be that newline; returns the index after
 * the continuing quote, or -1.
 */
export function quoteContinuation(text: string, from: number): number {
  const match = /^[ \t\f]*(?:--[^\n\r]*)?\r[ \t\r\f]*'/.exec(text.slice(from, from + 256));
  return match ? from + match[0].length : -1;
}

/** End of psql's {integer}, {decimal} or {real} token starting at `from`. */
export function numberEnd(text: string, from: number): number {
  const match = /^(?:\d+\.(?!\.)\d*|\d*\.\d+|\d+)(?:[Ee][-+]?\d+)?/.exec(text.slice(from, from + 400));
  return from + (match?.[0].length || 1);
}
