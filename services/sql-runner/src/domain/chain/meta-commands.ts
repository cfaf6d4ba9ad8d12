import { ChainMetaCommandError } from './errors.js';
import type { SourceText } from './source-text.js';
import { invalidTextError } from './text-check.js';
import { isVariableChar, quoteIdentifier, quoteLiteral, type Variables } from './variables.js';

/** One argument of a meta-command after psql's quote and variable processing. */
export interface MetaArgument {
  value: string;
  /** True when any part of it was quoted or substituted (psql's `quote` out-parameter). */
  quoted: boolean;
}

/** A meta-command line: `\name arg ...` up to the end of its line. */
export interface MetaCommand {
  name: string;
  args: MetaArgument[];
  /** File index of the backslash. */
  start: number;
  /** File index of the end of the line (its '\n', or the end of the file). */
  end: number;
}

const ARG_SPACE = /[ \t\r\f]/;

/**
 * Reads a meta-command the way psqlscanslash.l does: the name runs to
 * whitespace or a backslash; arguments are separated by whitespace, '...'
 * is unquoted with backslash escapes, "..." is kept with its quotes, and
 * :name, :'name', :"name" are substituted. Shell backquotes and psql's `\\`
 * separator are refused rather than run or skipped. `charge` is told the
 * length of every substituted value (and the file index of its reference)
 * before it is used, so that the chain's budget can refuse it.
 */
export function readMetaCommand(
  source: SourceText,
  start: number,
  variables: Variables,
  charge: (length: number, reference: number) => void,
): MetaCommand {
  const text = source.text;
  const end = source.lineEnd(start);
  let i = start + 1;
  while (i < end && !ARG_SPACE.test(text[i] ?? '') && text[i] !== '\\') i++;
  const name = text.slice(start + 1, i);
  const fail = (
    code: 'SQL_RUNNER_META_COMMAND_UNSUPPORTED' | 'SQL_RUNNER_META_COMMAND_INVALID',
    message: string,
    at = start,
  ) => new ChainMetaCommandError(code, message, source.location(at), `\\${name}`);
  if (name === '') {
    const line = source.point(start).line;
    throw fail('SQL_RUNNER_META_COMMAND_UNSUPPORTED', `psql's \\\\ separator on line ${line} is not supported`);
  }
  const args: MetaArgument[] = [];
  for (;;) {
    while (i < end && ARG_SPACE.test(text[i] ?? '')) i++;
    if (i >= end) break;
    let value = '';
    let quoted = false;
    while (i < end && !ARG_SPACE.test(text[i] ?? '')) {
      const c = text[i] ?? '';
      if (c === '\\') {
        const line = source.point(start).line;
        throw fail(
          'SQL_RUNNER_META_COMMAND_INVALID',
          `\\${name} on line ${line}: a second meta-command or \\\\ on the same line is not supported`,
          i,
        );
      } else if (c === '`') {
        const line = source.point(start).line;
        throw fail(
          'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
          `\\${name} on line ${line}: backquoted arguments run shell commands and are not supported`,
          i,
        );
      } else if (c === "'") {
        const [unquoted, next] = readSingleQuoted(text, i + 1, end);
        if (next < 0)
          throw fail(
            'SQL_RUNNER_META_COMMAND_INVALID',
            `\\${name} on line ${source.point(start).line}: unterminated quoted string`,
            i,
          );
        // An octal or hex escape can spell a NUL, which psql would cut the value at and PostgreSQL cannot take.
        if (unquoted.includes('\0')) throw invalidTextError(source, i, 0);
        value += unquoted;
        quoted = true;
        i = next;
      } else if (c === '"') {
        const close = text.indexOf('"', i + 1);
        if (close < 0 || close >= end)
          throw fail(
            'SQL_RUNNER_META_COMMAND_INVALID',
            `\\${name} on line ${source.point(start).line}: unterminated quoted string`,
            i,
          );
        value += text.slice(i, close + 1);
        quoted = true;
        i = close + 1;
      } else if (c === ':') {
        const ref = readReference(text, i, end, variables);
        if (ref.substituted) charge(ref.text.length, i);
        value += ref.text;
        quoted ||= ref.substituted;
        i = ref.next;
      } else {
        value += c;
        i++;
      }
    }
    args.push({ value, quoted });
  }
  return { name, args, start, end };
}

function readSingleQuoted(text: string, from: number, end: number): [string, number] {
  let out = '';
  let i = from;
  const escapes: Record<string, string> = { n: '\n', t: '\t', b: '\b', r: '\r', f: '\f' };
  while (i < end) {
    const c = text[i] ?? '';
    if (c === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return [out, i + 1];
    }
    if (c === '\\' && i + 1 < end) {
      const rest = text.slice(i + 1, i + 4);
      const octal = /^[0-7]{1,3}/.exec(rest);
      const hex = /^x[0-9A-Fa-f]{1,2}/.exec(rest);
      if (octal) {
        out += String.fromCharCode(Number.parseInt(octal[0], 8) & 0xff);
        i += 1 + octal[0].length;
      } else if (hex) {
        out += String.fromCharCode(Number.parseInt(hex[0].slice(1), 16));
        i += 1 + hex[0].length;
      } else {
        const e = text[i + 1] ?? '';
        out += escapes[e] ?? e;
        i += 2;
      }
      continue;
    }
    out += c;
    i++;
  }
  return [out, -1];
}

function readReference(
  text: string,
  at: number,
  end: number,
  variables: Variables,
): { text: string; next: number; substituted: boolean } {
  const d = text[at + 1] ?? '';
  const quote = d === "'" || d === '"' ? d : d === '{' && text[at + 2] === '?' ? '}' : '';
  let j = at + 1 + (quote === '}' ? 2 : quote ? 1 : 0);
  const nameStart = j;
  while (j < end && isVariableChar(text.charCodeAt(j))) j++;
  const name = text.slice(nameStart, j);
  if (!name || (quote && text[j] !== quote)) return { text: ':', next: at + 1, substituted: false };
  const next = quote ? j + 1 : j;
  const value = variables.get(name);
  if (quote === '}') return { text: value === undefined ? 'FALSE' : 'TRUE', next, substituted: false };
  if (value === undefined) return { text: text.slice(at, next), next, substituted: false };
  if (!quote) return { text: value, next, substituted: true };
  return { text: quote === "'" ? quoteLiteral(value) : quoteIdentifier(value), next, substituted: true };
}

/** The text `\echo` prints: arguments joined by spaces, a newline unless the first one is an unquoted -n. */
export function echoText(args: MetaArgument[]): string {
  const first = args[0];
  const noNewline = first !== undefined && !first.quoted && first.value === '-n';
  const words = (noNewline ? args.slice(1) : args).map((arg) => arg.value);
  return words.join(' ') + (noNewline ? '' : '\n');
}
