import type { Writable } from 'node:stream';
import type { ResultColumn, RunEvent } from '@taidon/contracts';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import type { Step } from '../chain/index.js';
import { clip, isServerError } from './errors.js';

/** Bounds on what one statement may send back to the learner. */
export interface OutputLimits {
  /** Rows of one result set beyond which it is truncated. */
  maxRows: number;
  /** Bytes of text values of one result set beyond which it is truncated. */
  maxBytes: number;
  /** Rows per `rows` event. */
  chunkRows: number;
}

/**
 * Receives the events of a run, in order. `drained`, where the receiver has one, resolves once what was
 * emitted so far has been handed on (a client reading slowly): rows are read from the server no faster.
 */
export type Emit = ((event: RunEvent) => void) & { drained?: () => Promise<void> };

/** What a statement did, as its command tag says. */
export interface StatementOutcome {
  command: string;
  rowCount: number | null;
}

/**
 * Values stay PostgreSQL's own text output: no JavaScript Date, number or
 * JSON conversion ever touches them, so numerics stay exact and timestamps
 * keep the session's DateStyle and time zone.
 */
const TEXT_AS_IS = { getTypeParser: () => (value: string) => value };

/** Objects below this oid are built into PostgreSQL: their names are the same on every instance of one engine. */
const FIRST_NORMAL_OBJECT_ID = 16384;

/**
 * Type names by (oid, typmod), as `format_type` prints them. Built-in types
 * are named once for all sessions (`builtin`); types a learner created are
 * cached per instance. Lookups go through a second connection, opened only
 * when needed: the learner's connection is busy with the portal whose
 * columns are being named.
 */
export class TypeNames {
  private readonly own = new Map<string, string>();

  constructor(
    /** Runs `use` on the catalog connection, one user at a time (pg 9 refuses a query on a busy client). */
    private readonly withCatalog: <T>(use: (client: pg.ClientBase) => Promise<T>) => Promise<T>,
    private readonly builtin: Map<string, string> = new Map(),
  ) {}

  private cacheFor(field: pg.FieldDef): Map<string, string> {
    return field.dataTypeID < FIRST_NORMAL_OBJECT_ID ? this.builtin : this.own;
  }

  async columns(fields: readonly pg.FieldDef[]): Promise<ResultColumn[]> {
    const id = (f: pg.FieldDef) => `${f.dataTypeID}/${f.dataTypeModifier}`;
    const missing = fields.filter((f) => !this.cacheFor(f).has(id(f)));
    if (missing.length > 0) {
      const { rows } = await this.withCatalog((client) =>
        client.query<{ name: string }>({
          text: 'SELECT format_type(o, NULLIF(m, -1)) AS name FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(o, m, n) ORDER BY n',
          values: [missing.map((f) => f.dataTypeID), missing.map((f) => f.dataTypeModifier)],
          types: TEXT_AS_IS,
        }),
      );
      for (const [i, f] of missing.entries()) this.cacheFor(f).set(id(f), rows[i]?.name ?? String(f.dataTypeID));
    }
    return fields.map((f) => ({ name: f.name, type: this.cacheFor(f).get(id(f)) ?? String(f.dataTypeID) }));
  }
}

interface CursorInternals {
  _result: { fields: pg.FieldDef[]; command: string | null; rowCount: number | null };
}

type CommandCompleteHandler = (message: { text: string }) => void;

/** A cursor that keeps the whole command tag ("CREATE TABLE"), where pg keeps only its first word. */
function taggedCursor(sql: string): { cursor: Cursor<(string | null)[]>; tag: () => string | undefined } {
  const cursor = new Cursor<(string | null)[]>(sql, undefined, { rowMode: 'array', types: TEXT_AS_IS });
  const hooks = cursor as unknown as { handleCommandComplete: CommandCompleteHandler };
  const original = hooks.handleCommandComplete.bind(cursor);
  let tag: string | undefined;
  hooks.handleCommandComplete = (message) => {
    tag = message.text.replace(/( \d+)+$/, '');
    // pg-cursor closes the portal and syncs here: two messages, one write.
    corked(socketOf(cursor), () => original(message));
  };
  return { cursor, tag: () => tag };
}

/**
 * Calls `send` (which writes protocol messages on `stream`, a pg connection's socket) with it corked, so its messages
 * leave in one write. pg-cursor writes each message of its own (Parse, Bind, Describe, Flush, Execute, Flush:
 * six writes to start a statement, two to close its portal), and each write on loopback costs a system call
 * here and a wake-up of the server; pg's own queries cork the same way. The socket is uncorked on the next
 * tick, so what `send` starts and the caller adds in the same tick (the first read of a new cursor) go too.
 */
function corked<T>(stream: Writable | undefined, send: () => T): T {
  if (!stream || stream.writableCorked > 0) return send();
  stream.cork();
  try {
    return send();
  } finally {
    process.nextTick(() => stream.uncork());
  }
}

/** The socket of pg's connection (its `connection.stream`, for a client and for a cursor alike). */
const socketOf = (owner: unknown): Writable | undefined =>
  (owner as { connection?: { stream?: Writable } | null }).connection?.stream;

/** Command tag of a statement whose portal was closed early (truncated), from its kind. */
const TAG_OF_KIND: Record<string, string> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

function rowBytes(row: (string | null)[]): number {
  let bytes = 0;
  for (const value of row) bytes += value === null ? 0 : value.length;
  return bytes;
}

/**
 * Runs one SQL statement through a portal read in chunks (the extended
 * protocol's row limit), so a huge result is never materialised: once the
 * row or byte cap is reached the portal is closed and `truncated` reported.
 * A DML … RETURNING still runs to completion, since PostgreSQL executes it
 * fully on the first fetch.
 */
async function executeSql(
  client: pg.ClientBase,
  step: Step,
  statement: number,
  emit: Emit,
  limits: OutputLimits,
  types: TypeNames,
): Promise<StatementOutcome> {
  const tagged = taggedCursor(step.sql);
  // The statement's start and its first read in one write.
  const cursor = corked(socketOf(client), () => client.query(tagged.cursor));
  const internals = cursor as unknown as CursorInternals;
  let announced = false;
  let rowsSent = 0;
  let bytesSent = 0;
  let truncated = false;
  let failure: unknown;
  try {
    for (;;) {
      const rows = await corked(socketOf(client), () => cursor.read(limits.chunkRows));
      if (!announced && internals._result.fields.length > 0) {
        announced = true;
        emit({ type: 'resultset', statement, columns: await types.columns(internals._result.fields) });
      }
      if (rows.length === 0) break;
      let take = rows.length;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as (string | null)[];
        if (rowsSent + i >= limits.maxRows || bytesSent + rowBytes(row) > limits.maxBytes) {
          take = i;
          truncated = true;
          break;
        }
        bytesSent += rowBytes(row);
      }
      if (take > 0) emit({ type: 'rows', statement, rows: rows.slice(0, take) as (string | null)[][] });
      rowsSent += take;
      if (truncated) break;
      await emit.drained?.();
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // A live connection answers the portal's close, whatever failed (a server error, or a step of ours such as
    // the column types' catalog query): left open, the portal would hold the session's next query for ever.
    // A connection that ended (the sandbox's backend died) never answers, and pg-cursor would wait for ever.
    if (failure === undefined || isServerError(failure) || isLive(client))
      await corked(socketOf(client), () => cursor.close());
  }
  const command = tagged.tag() ?? (truncated ? TAG_OF_KIND[step.kind] : internals._result.command) ?? '';
  // With a result set, the rows are counted as they came: each fetch of the portal ends with its own tag,
  // so the last one counts only the last chunk (a 5000-row SELECT read in chunks of 500 was tagged "SELECT 0").
  const rowCount = announced ? rowsSent : internals._result.rowCount;
  emit({ type: 'complete', statement, command, rowCount, truncated });
  return { command, rowCount };
}

/** Whether pg's client can still talk to its server (pg keeps this in fields of its own). */
function isLive(client: pg.ClientBase): boolean {
  const state = client as unknown as { _ended?: boolean; _queryable?: boolean };
  return state._ended !== true && state._queryable !== false;
}

async function executeCopyIn(
  client: pg.ClientBase,
  step: Step,
  statement: number,
  emit: Emit,
): Promise<StatementOutcome> {
  const stream = client.query(copyFrom(step.sql));
  await new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
    stream.end(step.copyData ?? '');
  });
  emit({ type: 'complete', statement, command: 'COPY', rowCount: stream.rowCount, truncated: false });
  return { command: 'COPY', rowCount: stream.rowCount };
}

async function executeCopyOut(
  client: pg.ClientBase,
  step: Step,
  statement: number,
  emit: Emit,
  limits: OutputLimits,
): Promise<StatementOutcome> {
  const stream = client.query(copyTo(step.sql));
  emit({ type: 'resultset', statement, columns: [{ name: 'COPY', type: 'text' }] });
  let pending = '';
  let rows = 0;
  let bytes = 0;
  let truncated = false;
  let chunk: (string | null)[][] = [];
  for await (const data of stream) {
    pending += (data as Buffer).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (rows >= limits.maxRows || bytes + line.length > limits.maxBytes) truncated = true;
      if (truncated) continue;
      chunk.push([line]);
      rows++;
      bytes += line.length;
      if (chunk.length >= limits.chunkRows) {
        emit({ type: 'rows', statement, rows: chunk });
        chunk = [];
      }
    }
    // The COPY stream is not read on (the server waits) until the client has taken what was sent.
    await emit.drained?.();
  }
  if (chunk.length > 0) emit({ type: 'rows', statement, rows: chunk });
  emit({ type: 'complete', statement, command: 'COPY', rowCount: stream.rowCount, truncated });
  return { command: 'COPY', rowCount: stream.rowCount };
}

/** A notice as the server sends it (pg's NoticeMessage: the fields used here). */
export interface ServerNotice {
  severity?: string;
  message?: string;
  code?: string;
}

/** Notices of one statement passed on to the learner; past this many, one more says the rest were left out. */
export const MAX_NOTICES = 100;

/** Passes the server's notices of statement `statement` on as `notice` events, at most MAX_NOTICES of them. */
export function forwardNotices(emit: Emit, statement: number): (notice: ServerNotice) => void {
  let count = 0;
  return (notice) => {
    count++;
    if (count <= MAX_NOTICES) {
      emit({
        type: 'notice',
        severity: notice.severity ?? 'NOTICE',
        message: clip(notice.message ?? ''),
        ...(notice.code ? { sqlstate: notice.code } : {}),
        statement,
      });
    } else if (count === MAX_NOTICES + 1) {
      emit({
        type: 'notice',
        severity: 'NOTICE',
        message: `further notices of this statement are not shown (more than ${MAX_NOTICES})`,
        statement,
      });
    }
  };
}

/**
 * Executes one step on a learner connection, emitting its result set,
 * rows and completion. Server errors are thrown as they come (pg's
 * DatabaseError, with SQLSTATE and position); the caller reports them.
 */
export async function executeStep(
  client: pg.ClientBase,
  step: Step,
  statement: number,
  emit: Emit,
  limits: OutputLimits,
  types: TypeNames,
): Promise<StatementOutcome> {
  if (step.kind === 'Echo') {
    emit({ type: 'notice', severity: 'ECHO', message: (step.notice ?? '').replace(/\n$/, ''), statement });
    return { command: 'ECHO', rowCount: null };
  }
  if (step.copy === 'in') return executeCopyIn(client, step, statement, emit);
  if (step.copy === 'out') return executeCopyOut(client, step, statement, emit, limits);
  return executeSql(client, step, statement, emit, limits, types);
}
