import type { ApiError } from '../api/errors.js';
import { offsetOf, partsOf } from '../editor/buffer.js';
import type { EditorMarker } from '../editor/SqlEditor.js';
import type { RunView } from '../features/run/run-model.js';

/** A problem as the problems list shows it. */
export interface Problem extends EditorMarker {
  sqlstate: string;
  hint?: string | undefined;
}

/**
 * Where a SQL error reported against `tail.sql` or `head.sql` sits in the
 * buffer: the tail starts the buffer, the head starts at `headOffset`.
 */
export function bufferOffset(
  where: { path?: string | undefined; line?: number | undefined; column?: number | undefined },
  texts: { tail: string; head: string; headOffset: number },
): number | undefined {
  if (where.line === undefined || where.column === undefined) return undefined;
  if (where.path === 'tail.sql') return offsetOf(texts.tail, where.line, where.column);
  return texts.headOffset + offsetOf(texts.head, where.line, where.column);
}

/** The problem of a rejected plan or run (422), placed in the buffer. */
export function problemOfRejection(
  error: ApiError,
  texts: { tail: string; head: string; headOffset: number },
  source: string,
): Problem | undefined {
  const sql = error.sql;
  if (!sql) return undefined;
  const offset = bufferOffset(sql, texts);
  if (offset === undefined) return undefined;
  return { offset, message: `${sql.message} (SQLSTATE ${sql.sqlstate})`, source, sqlstate: sql.sqlstate };
}

/** The plan input of the whole buffer: its tail and head as two files, so errors name the part they are in. */
export function planFilesOf(text: string) {
  const parts = partsOf(text);
  const files: { path: string; sql: string }[] = [];
  if (parts.tail.trim() !== '') files.push({ path: 'tail.sql', sql: parts.tail });
  if (parts.head.trim() !== '') files.push({ path: 'head.sql', sql: parts.head });
  return { files, parts };
}

/** The problem of a run that ended with an error at a place in the buffer, or undefined. */
export function problemOfRun(run: RunView): Problem | undefined {
  const offset = run.error ? bufferOffset(run.error, run) : undefined;
  if (!run.error || offset === undefined) return undefined;
  return {
    offset,
    message: `${run.error.message} (SQLSTATE ${run.error.sqlstate})`,
    source: 'run',
    sqlstate: run.error.sqlstate,
    hint: run.error.hint,
  };
}
