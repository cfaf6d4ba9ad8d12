import type { RunEvent } from '@taidon/contracts';
import type { Step } from '../chain/index.js';

/** Fields of a PostgreSQL error as the pg driver exposes them. */
interface ServerError {
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: string;
}

/** True for an error the server sent (it carries a SQLSTATE). */
export function isServerError(error: unknown): error is ServerError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as ServerError).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as ServerError).code ?? '')
  );
}

/**
 * Where a 1-based character position inside a step's text lies in the
 * step's file: the step starts at its line and column, and the text up to
 * the position adds lines and columns (code points, like PostgreSQL counts).
 */
export function locate(step: Step, position: number): { line: number; column: number } {
  const before = Array.from(step.sql)
    .slice(0, Math.max(0, position - 1))
    .join('');
  const lastNewline = before.lastIndexOf('\n');
  if (lastNewline === -1) return { line: step.line, column: step.column + Array.from(before).length };
  const lines = before.split('\n').length - 1;
  return { line: step.line + lines, column: Array.from(before.slice(lastNewline + 1)).length + 1 };
}

/** Characters of a server message (error, detail, hint, notice) passed on to the learner. */
export const MAX_MESSAGE_CHARS = 8192;

/**
 * A server message as the learner gets it: whole up to MAX_MESSAGE_CHARS, else cut with how much was left
 * out (`RAISE NOTICE '%', repeat('x', 50000000)` would otherwise be 50 MB in one event).
 */
export function clip(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  return `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length - MAX_MESSAGE_CHARS} more characters)`;
}

/** The `error` event of a server error raised by `step`, with its place in the user's text. */
export function errorEvent(
  error: ServerError,
  step: Step,
  phase: 'replay' | 'execute',
  statement: number,
): Extract<RunEvent, { type: 'error' }> {
  const event: Extract<RunEvent, { type: 'error' }> = {
    type: 'error',
    phase,
    statement,
    sqlstate: error.code ?? 'XX000',
    message: clip(error.message),
    path: step.path,
  };
  if (error.detail) event.detail = clip(error.detail);
  if (error.hint) event.hint = clip(error.hint);
  const position = Number(error.position);
  if (Number.isInteger(position) && position > 0) {
    event.position = position;
    Object.assign(event, locate(step, position));
  } else {
    event.line = step.line;
    event.column = step.column;
  }
  return event;
}
