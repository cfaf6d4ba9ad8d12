import { ChainTextError } from './errors.js';
import type { SourceText } from './source-text.js';

/**
 * A NUL, a high surrogate not followed by a low one, or a low surrogate not
 * preceded by a high one. Without the `u` flag the pattern sees UTF-16 code
 * units, which is what it must judge.
 */
const INVALID = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-16 index of the first character PostgreSQL cannot take in `text`, or -1. */
export function invalidCharIndex(text: string): number {
  return text.search(INVALID);
}

/** `U+0000`, `U+D800`: how an error names a character. */
function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Refuses a character PostgreSQL cannot take at `index` of `source`: the
 * server ends a query at a NUL (so the rest of its line would be ignored by
 * the parser and the key, and the server refuses it only at execution), and
 * half a surrogate pair has no UTF-8 form at all.
 */
export function invalidTextError(
  source: SourceText,
  index: number,
  code = source.text.charCodeAt(index),
): ChainTextError {
  const location = source.location(index);
  const what =
    code === 0
      ? 'a NUL character (U+0000) cannot be sent to PostgreSQL'
      : `an unpaired surrogate (${codePointName(code)}) is not valid text`;
  return new ChainTextError(
    `line ${location.line}, column ${location.column} of ${source.path}: ${what}`,
    location,
    codePointName(code),
  );
}

/** Throws for the first character of the file PostgreSQL cannot take. */
export function checkText(source: SourceText): void {
  const index = invalidCharIndex(source.text);
  if (index !== -1) throw invalidTextError(source, index);
}
