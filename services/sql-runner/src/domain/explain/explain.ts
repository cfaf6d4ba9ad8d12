import type { ExplainResponse, RunEvent } from '@taidon/contracts';
import type pg from 'pg';
import { SqlRunnerError } from '../../errors.js';
import type { Chain, Step } from '../chain/index.js';
import type { RunnerDeps } from '../runs/context.js';
import { DISK_FULL_SQLSTATE, guardDiskUse } from '../runs/disk-guard.js';
import { clip, isServerError, locate } from '../runs/errors.js';
import { ReplayFailed, StartAborted } from '../runs/start-state/index.js';
import type { ThrowawayClone, ThrowawayClones, ThrowawayReservation } from '../throwaway/clones.js';
import { layerOfSession, layerOfTail, type ThrowawayState } from '../throwaway/states.js';

/** Values as the server prints them: the JSON plan is parsed here, once. */
const TEXT_AS_IS = { getTypeParser: () => (value: string) => value };

/** What an EXPLAIN asks: the statement planned alone (one step), and the state to explain it on. */
export interface ExplainInput {
  ownerId: string;
  /** A session of the owner: its instance's current state is explained, when it has an instance. */
  sessionId?: string | undefined;
  /** The state otherwise (the empty chain without a tail). */
  tail: Chain;
  /** The statement as the planner split it: exactly one step (see oneStatement). */
  statement: Step;
  requestId: string;
}

/** The one statement of a planned text; anything else is 400 SQL_RUNNER_EXPLAIN_ONE_STATEMENT. */
export function oneStatement(chain: Chain): Step {
  const [step, ...more] = chain.steps;
  if (!step || more.length > 0 || step.kind === 'Echo') {
    throw new SqlRunnerError(
      'SQL_RUNNER_EXPLAIN_ONE_STATEMENT',
      `EXPLAIN takes exactly one SQL statement; this text has ${chain.steps.length} steps.`,
      { details: { steps: chain.steps.length } },
    );
  }
  return step;
}

/**
 * `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` and `EXPLAIN (ANALYZE, BUFFERS)`
 * of one statement on a throwaway clone (ADR 0031) of the session's current
 * state or of the tail's, each in a transaction rolled back, so both
 * formats see the same state and a write changes nothing, not even the
 * clone. The learner's instance and the layers are never written.
 */
export async function explainStatement(
  deps: RunnerDeps,
  clones: ThrowawayClones,
  input: ExplainInput,
): Promise<ExplainResponse> {
  const reservation = await clones.reserve(input.ownerId, 1);
  let state: ThrowawayState | undefined;
  try {
    if (input.sessionId !== undefined) {
      state = await layerOfSession(deps, {
        ownerId: input.ownerId,
        sessionId: input.sessionId,
        requestId: input.requestId,
      });
    }
    state ??= await tailState(deps, reservation, input);
    const found = state;
    const plans = await reservation.withClone(found.layerKey, input.requestId, (clone) =>
      explainOn(deps, clone, input.statement),
    );
    return { ...plans, layerKey: found.stateKey, source: found.source };
  } finally {
    // After the answer: the clone's delete, then the private snapshot's layer it was made of.
    const made = state;
    void reservation.release().then(() => made?.dispose());
  }
}

/**
 * The tail's layer (ADR 0031); a replayed step of the tail that fails is the
 * tail's own error, answered as 422 SQL_RUNNER_THROWAWAY_TAIL_FAILED with its
 * SQLSTATE and place (a JSON answer has no stream for the build's progress).
 */
export async function tailState(
  deps: RunnerDeps,
  reservation: ThrowawayReservation,
  input: Pick<ExplainInput, 'ownerId' | 'tail' | 'requestId'> & { pinned?: boolean },
): Promise<ThrowawayState> {
  let replayError: Extract<RunEvent, { type: 'error' }> | undefined;
  try {
    return await layerOfTail(deps, reservation, {
      ownerId: input.ownerId,
      tail: input.tail,
      requestId: input.requestId,
      ...(input.pinned ? { pinned: true } : {}),
      emit: (event) => {
        if (event.type === 'error') replayError = event;
      },
    });
  } catch (caught) {
    const error = caught instanceof StartAborted ? caught.reason : caught;
    if (!(error instanceof ReplayFailed) || !replayError) throw error;
    // PostgreSQL's DETAIL goes in `sqlDetail`: `detail` is the problem's own member.
    const { type: _type, phase: _phase, detail, ...where } = replayError;
    throw new SqlRunnerError('SQL_RUNNER_THROWAWAY_TAIL_FAILED', replayError.message, {
      details: { ...where, ...(detail ? { sqlDetail: detail } : {}) },
    });
  }
}

async function explainOn(
  deps: RunnerDeps,
  clone: ThrowawayClone,
  step: Step,
): Promise<Pick<ExplainResponse, 'plan' | 'text'>> {
  const json = await explainOnce(deps, clone, step, 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ');
  const text = await explainOnce(deps, clone, step, 'EXPLAIN (ANALYZE, BUFFERS) ');
  const parsed = JSON.parse(json.join('\n')) as unknown;
  const plan = Array.isArray(parsed) ? parsed[0] : undefined;
  if (typeof plan !== 'object' || plan === null) throw new Error('EXPLAIN (FORMAT JSON) answered no plan object');
  return { plan: plan as Record<string, unknown>, text: text.join('\n') };
}

/** The lines EXPLAIN answers for `step` after `prefix`, inside BEGIN … ROLLBACK, under the runner's bounds. */
async function explainOnce(deps: RunnerDeps, clone: ThrowawayClone, step: Step, prefix: string): Promise<string[]> {
  const client: pg.Client = clone.connection.learner;
  await client.query('BEGIN');
  const guard = setTimeout(() => void clone.connection.cancel().catch(() => {}), deps.statementTimeoutMs);
  const disk = guardDiskUse(clone.connection, deps.databaseMaxBytes, step.kind);
  try {
    const result = await client.query<Record<string, string>>({
      text: `${prefix}${step.sql}`,
      rowMode: 'array',
      types: TEXT_AS_IS,
    } as pg.QueryConfig);
    const lines = (result.rows as unknown as string[][]).map((row) => row[0] ?? '');
    const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    if (lines.length > deps.limits.maxRows || bytes > deps.limits.maxBytes) {
      throw new SqlRunnerError(
        'SQL_RUNNER_EXPLAIN_TOO_LARGE',
        `The plan is larger than a result may be (${deps.limits.maxRows} lines, ${deps.limits.maxBytes} bytes).`,
      );
    }
    return lines;
  } catch (error) {
    if (!isServerError(error)) throw error;
    throw sqlError(error, step, prefix.length, disk.exceeded, deps.databaseMaxBytes);
  } finally {
    disk.stop();
    clearTimeout(guard);
    await client.query('ROLLBACK').catch(() => {}); // the clone is deleted next; a failed rollback changes nothing
  }
}

/** A server error of the EXPLAIN as runs report one: SQLSTATE, and its place in the statement the learner wrote. */
function sqlError(
  error: { code?: string; message: string; detail?: string; hint?: string; position?: string },
  step: Step,
  prefixChars: number,
  diskExceeded: boolean,
  databaseMaxBytes: number,
): SqlRunnerError {
  const sqlstate = diskExceeded ? DISK_FULL_SQLSTATE : (error.code ?? 'XX000');
  const message = diskExceeded
    ? `the sandbox database is past its disk quota of ${Math.round(databaseMaxBytes / 1024 ** 2)} MB; the statement was cancelled`
    : clip(error.message);
  const details: Record<string, unknown> = { sqlstate, message, path: step.path };
  const position = Number(error.position) - prefixChars;
  if (!diskExceeded && Number.isInteger(position) && position > 0) {
    Object.assign(details, { position, ...locate(step, position) });
  } else {
    Object.assign(details, { line: step.line, column: step.column });
  }
  if (error.hint && !diskExceeded) details.hint = clip(error.hint);
  if (error.detail && !diskExceeded) details.sqlDetail = clip(error.detail);
  return new SqlRunnerError('SQL_RUNNER_EXPLAIN_SQL_ERROR', message, { details });
}
