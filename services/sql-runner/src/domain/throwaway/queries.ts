import type { ResultColumn, RunEvent, SqlRunnerApi } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import type { Chain } from '../chain/index.js';
import { tailState } from '../explain/explain.js';
import type { RunnerDeps } from '../runs/context.js';
import type { ThrowawayClone, ThrowawayClones } from './clones.js';
import { runStepsOnClone } from './steps.js';

/** SQLSTATE of a statement cancelled by the runner's timer (query_canceled). */
const CANCELLED_SQLSTATE = '57014';

/** What a grader's request asks: the tail planned, each entry to plan on its final state, the time limit. */
export interface ThrowawayQueriesInput {
  ownerId: string;
  requestId: string;
  tail: Chain;
  /** Plans entry `i` on the tail's final state (a planning error is that entry's answer). */
  planEntry(index: number): Promise<Chain>;
  /** How many reads entry `i` runs after its SQL on the same clone (its `reads`). */
  readCount?(index: number): number;
  /** Plans read `j` of entry `i`'s `reads` (a planning error is that read's answer). */
  planRead?(index: number, read: number): Promise<Chain>;
  entries: number;
  /** Each statement's limit, already bounded by the runner's own. */
  timeoutMs: number;
  /** The tail's state is held with its layer pinned (LayerHolds.heldPinned): found without a lookup. */
  pinned?: boolean;
}

type EntryResult = SqlRunnerApi.ThrowawayQueryResult;
type ChainResult = SqlRunnerApi.ThrowawayReadResult;

/**
 * A grader's SQL on throwaway clones (ADR 0031): the tail's state found or
 * built once, then every entry on a fresh clone of its own, as many at once
 * as the account's throwaway slots allow, each answered with its last
 * statement's result (under the runs' row and byte caps) or its first error. The
 * clones are deleted after; no layer and no learner's instance is written.
 * A tail that fails is the request's error (422 SQL_RUNNER_THROWAWAY_TAIL_FAILED).
 */
export async function runThrowawayQueries(
  deps: RunnerDeps,
  clones: ThrowawayClones,
  input: ThrowawayQueriesInput,
): Promise<SqlRunnerApi.ThrowawayQueriesResponse> {
  const reservation = await clones.reserve(input.ownerId, input.entries);
  try {
    const state = await tailState(deps, reservation, input);
    const results: EntryResult[] = new Array(input.entries);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < input.entries; i = next++) {
        results[i] = await runEntry(
          deps,
          input,
          i,
          (use) => reservation.withClone(state.layerKey, input.requestId, use),
          reservation.useMaxMs,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(reservation.slots, input.entries) }, worker));
    return {
      layerKey: state.layerKey,
      source: state.source === 'built' ? 'built' : 'layer',
      prepareMs: state.prepareMs,
      results,
    };
  } finally {
    void reservation.release();
  }
}

async function runEntry(
  deps: RunnerDeps,
  input: ThrowawayQueriesInput,
  index: number,
  onClone: (use: (clone: ThrowawayClone) => Promise<EntryResult>) => Promise<EntryResult>,
  useMaxMs: number,
): Promise<EntryResult> {
  const planned = await planChain(() => input.planEntry(index));
  if (!planned.ok) return planned;
  const readCount = input.readCount?.(index) ?? 0;
  // One after another: the account's planner queue is short (its plans in progress are bounded).
  const readChains: Awaited<ReturnType<typeof planChain>>[] = [];
  for (let j = 0; j < readCount; j++) {
    readChains.push(await planChain(() => (input.planRead as NonNullable<typeof input.planRead>)(index, j)));
  }
  return onClone(async (clone) => {
    const deadline = performance.now() + useMaxMs;
    const result = await executeChain(deps, clone, planned.chain, input.timeoutMs, useMaxMs, deadline);
    if (!result.ok || readCount === 0) return result;
    // The reads see what the entry left, on its clone and connection; each is answered on its own.
    const reads: ChainResult[] = [];
    for (const read of readChains) {
      reads.push(read.ok ? await executeChain(deps, clone, read.chain, input.timeoutMs, useMaxMs, deadline) : read);
    }
    return { ...result, reads };
  });
}

/** A chain planned, or its planning error as the answer of the entry (or read) it is. */
async function planChain(
  plan: () => Promise<Chain>,
): Promise<{ ok: true; chain: Chain } | Extract<ChainResult, { ok: false }>> {
  try {
    return { ok: true, chain: await plan() };
  } catch (error) {
    if (!(error instanceof DomainError) || error.statusCode >= 500) throw error;
    const d = error.details;
    const at = (name: string) => (typeof d[name] === 'number' ? (d[name] as number) : 1);
    return {
      ok: false,
      ms: 0,
      error: {
        sqlstate: typeof d.sqlstate === 'string' ? d.sqlstate : '42601',
        message: error.message,
        line: at('line'),
        column: at('column'),
        ...(typeof d.position === 'number' ? { position: d.position } : {}),
      },
    };
  }
}

/**
 * A chain's steps in order on the clone; the last statement's result, or the first error. Every statement is
 * bounded by `timeoutMs` and by the clone's use `deadline` (THROWAWAY_USE_MAX_MS from the clone's start).
 */
async function executeChain(
  deps: RunnerDeps,
  clone: ThrowawayClone,
  chain: Chain,
  timeoutMs: number,
  useMaxMs: number,
  deadline: number,
): Promise<ChainResult> {
  const started = performance.now();
  // The statement running now's result set; kept as the answer's when it succeeds (the last one's is answered).
  let columns: ResultColumn[] = [];
  let rows: (string | null)[][] = [];
  let truncated = false;
  let last = { command: '', rowCount: null as number | null, columns, rows, truncated };
  const outcome = await runStepsOnClone(deps, clone, chain.steps, {
    timeoutMs,
    deadline,
    emit: (event: RunEvent) => {
      if (event.type === 'resultset') {
        columns = event.columns;
        rows = [];
      } else if (event.type === 'rows') rows.push(...event.rows);
      else if (event.type === 'complete') truncated = event.truncated;
    },
    onDone: (_step, _ms, done) => {
      last = { ...done, columns, rows, truncated };
      columns = [];
      rows = [];
      truncated = false;
    },
  });
  const ms = Math.round(performance.now() - started);
  if (outcome.ok) return { ok: true, ...last, ms };
  if (outcome.stopped) throw new Error('a grader entry has no client to leave');
  const { error: event, step, timedOut } = outcome;
  return {
    ok: false,
    ms,
    error: {
      sqlstate: event.sqlstate,
      message: timedOut
        ? `the statement ran past its time limit (${timeoutMs} ms, or ${useMaxMs} ms for the whole entry)`
        : event.message,
      line: event.line ?? step.line,
      column: event.column ?? step.column,
      ...(event.position !== undefined ? { position: event.position } : {}),
      ...(event.hint ? { hint: event.hint } : {}),
      ...(timedOut && event.sqlstate === CANCELLED_SQLSTATE ? { timedOut: true } : {}),
    },
  };
}
