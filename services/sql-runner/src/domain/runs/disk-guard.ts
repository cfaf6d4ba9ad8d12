import type { Step } from '../chain/index.js';
import type { SessionConnection } from './connections.js';
import { errorEvent } from './errors.js';

/** Execution time after which the size is looked at (a session's quick statements are never looked at), then this often. */
const FIRST_LOOK_MS = 100;
const LOOK_EVERY_MS = 250;

/** The SQLSTATE PostgreSQL itself uses for a full disk. */
export const DISK_FULL_SQLSTATE = '53100';

/**
 * Statements that free space or write nothing of the learner's: over the cap they still run without an
 * immediate look, so a learner past it can drop, truncate, vacuum or end a transaction.
 */
const FREEING_KINDS = new Set(['DropStmt', 'TruncateStmt', 'DeleteStmt', 'VacuumStmt', 'TransactionStmt']);

/** One look: the sandbox database's size, through the admin connection, recorded as the session's `overCap`. */
async function lookAtSize(connection: SessionConnection, maxBytes: number): Promise<void> {
  const { rows } = await connection.withAdmin((admin) =>
    admin.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes'),
  );
  connection.overCap = Number(rows[0]?.bytes ?? 0) > maxBytes;
}

/**
 * Watches the size of the sandbox database while one statement runs and
 * calls `exceeded` once it is past `maxBytes`; the caller cancels the
 * statement. This is the disk cap wherever the filesystem sets none (btrfs
 * without qgroups, the copy driver).
 * - The first look comes once the session's statements have run FIRST_LOOK_MS
 *   since the last one, in this statement or in earlier ones of this run or of
 *   earlier runs: many short statements add up like one long one.
 * - Once a look found the database past the cap, every later statement that
 *   may write is looked at as it starts, and cancelled while the database is
 *   still past it, until a look finds it back under (ADR 0016).
 * So a learner can grow the database past the cap by at most what their
 * statements write in FIRST_LOOK_MS plus one look's interval, once.
 * Returns the function that stops watching.
 */
export function watchDatabaseSize(
  connection: SessionConnection,
  maxBytes: number,
  kind: string,
  exceeded: () => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Execution of this statement not yet covered by a look.
  let since = performance.now();
  const look = async () => {
    try {
      await lookAtSize(connection, maxBytes);
      if (stopped) return;
      connection.unwatchedMs = 0;
      since = performance.now();
      if (connection.overCap && !FREEING_KINDS.has(kind)) {
        stopped = true;
        exceeded();
        return;
      }
    } catch {
      // The instance went away or the admin connection broke: the statement's own error tells the learner.
      if (stopped) return;
    }
    timer = setTimeout(() => void look(), LOOK_EVERY_MS);
  };
  // A query past the cap is looked at on the usual clock, not at once: a learner still reads (refusedForDisk
  // refuses the statements that write before they start); a statement that frees space is never cancelled.
  const now = connection.overCap && !FREEING_KINDS.has(kind) && kind !== 'SelectStmt';
  timer = setTimeout(() => void look(), now ? 0 : Math.max(0, FIRST_LOOK_MS - connection.unwatchedMs));
  return () => {
    if (!stopped) connection.unwatchedMs += performance.now() - since;
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Whether a statement of `kind` (one that writes: not a query, not one that frees space) must be refused before
 * it starts: a look found the database past the cap, and one taken now still does. The watch's own look at a statement's start runs beside it, so a short statement
 * could end before that look answered and write more past the cap; this one is awaited first.
 */
export async function refusedForDisk(connection: SessionConnection, maxBytes: number, kind: string): Promise<boolean> {
  // A query is left to the watch, as before: a learner past the cap still reads (its size, its tables).
  if (maxBytes <= 0 || !connection.overCap || FREEING_KINDS.has(kind) || kind === 'SelectStmt') return false;
  try {
    await lookAtSize(connection, maxBytes);
  } catch {
    // No look possible: the statement runs under the watch, whose own look decides.
    return false;
  }
  return connection.overCap;
}

/** The `error` event of a statement refused by refusedForDisk before it ran. */
export function diskRefusalEvent(step: Step, phase: 'replay' | 'execute', statement: number, maxBytes: number) {
  return statementErrorEvent(new Error('refused before it started'), step, phase, statement, {
    maxBytes,
    exceeded: true,
    stop: () => {},
  });
}

/** A statement's disk watch: whether it fired, and how to stop it. */
export interface DiskGuard {
  readonly maxBytes: number;
  exceeded: boolean;
  stop(): void;
}

/** Watches the database while one statement (of `kind`) runs and cancels it past `maxBytes` (0: no watch). */
export function guardDiskUse(connection: SessionConnection, maxBytes: number, kind: string): DiskGuard {
  const guard: DiskGuard = { maxBytes, exceeded: false, stop: () => {} };
  if (maxBytes > 0) {
    guard.stop = watchDatabaseSize(connection, maxBytes, kind, () => {
      guard.exceeded = true;
      void connection.cancel().catch(() => {});
    });
  }
  return guard;
}

/** The `error` event of a failed statement: its own error, or the disk cap when the guard cancelled it. */
export function statementErrorEvent(
  error: Parameters<typeof errorEvent>[0],
  step: Step,
  phase: 'replay' | 'execute',
  statement: number,
  disk: DiskGuard,
) {
  if (!disk.exceeded) return errorEvent(error, step, phase, statement);
  const cap = `${Math.round(disk.maxBytes / 1024 ** 2)} MB`;
  return errorEvent(
    {
      code: DISK_FULL_SQLSTATE,
      message: `the sandbox database is past its disk quota of ${cap}; the statement was cancelled`,
      hint: 'Drop or truncate tables you no longer need (or VACUUM FULL after a DELETE) to free space; until then, statements that write are cancelled.',
    },
    step,
    phase,
    statement,
  );
}
