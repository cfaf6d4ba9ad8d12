import { randomUUID } from 'node:crypto';
import { NotFoundError } from '@taidon/kit';
import { finishRun, insertRun } from '../../store/runs.js';
import { type OpenedSession, openOrCreateSession, updateSessionState } from '../../store/sessions.js';
import type { Chain } from '../chain/index.js';
import { cancelRun, RunCancelled, type RunnerDeps, RunState } from './context.js';
import type { Emit } from './execute.js';
import { RunFailure } from './failure.js';
import { executeHead } from './head.js';
import type { AdmittedRun } from './quota.js';
import {
  obtainStartState,
  ReplayFailed,
  type SessionView,
  StartAborted,
  type StartFacts,
  type StartState,
} from './start-state/index.js';

/** A planned run: the chains are keyed and checked before anything starts. */
export interface PlannedRun {
  ownerId: string;
  /** The caller's session (see openSession). */
  session: SessionView;
  /** The chain defining the starting state; undefined to continue the session's instance as it is. */
  tail: Chain | undefined;
  /** The empty chain (K0): where a head without tail starts when the session has no instance to continue. */
  emptyTail: Chain;
  /** The statements to run now; planned from the tail's final key (or later from the instance's key). */
  planHead: (startKey: string) => Promise<Chain>;
  planMs: number;
  /** How the quotas admitted the run (its id, its instance slot); undefined when no quotas are enforced. */
  admitted?: AdmittedRun;
}

/** Runs in flight, so a cancel request finds them (and checks their owner). */
export class RunRegistry {
  private readonly runs = new Map<string, { ownerId: string; state: RunState }>();

  add(ownerId: string, state: RunState): void {
    this.runs.set(state.runId, { ownerId, state });
  }

  remove(runId: string): void {
    this.runs.delete(runId);
  }

  /** Cancels run `runId` of `ownerId`; another owner's run is answered like a missing one. */
  async cancel(runId: string, ownerId: string, reason: 'request' | 'client-closed'): Promise<void> {
    const entry = this.runs.get(runId);
    if (!entry || entry.ownerId !== ownerId)
      throw new NotFoundError('SQL_RUNNER_RUN_NOT_FOUND', 'No such run is in progress.');
    await cancelRun(entry.state, reason);
  }
}

/**
 * The session to run in: the caller's own, or a new one; someone else's is
 * answered as missing. Called before the stream starts, so that is a 404.
 */
export async function openSession(
  deps: Pick<RunnerDeps, 'pool'>,
  ownerId: string,
  sessionId: string,
): Promise<SessionView & Pick<OpenedSession, 'created'>> {
  const session = await openOrCreateSession(deps.pool, sessionId, ownerId);
  if (session.ownerId !== ownerId) throw new NotFoundError('SQL_RUNNER_SESSION_NOT_FOUND', 'No such session.');
  return session;
}

/** The state a run starts from, and the deletion of the session's previous instance when it was replaced. */
interface StateForRun {
  state: StartState;
  /** Settles once the instance this run replaced is deleted; undefined when it replaced none. */
  replaced: Promise<void> | undefined;
}

/** The run's starting state (start-state/ decides how), and what becomes of the instance it replaces. */
async function stateFor(deps: RunnerDeps, run: RunState, session: SessionView, plan: PlannedRun): Promise<StateForRun> {
  run.phase = 'restore';
  const request = { deps, run, session, tail: plan.tail ?? plan.emptyTail, continues: !plan.tail };
  const state = await obtainStartState(request, async () => {
    // A new instance: the run holds an instance slot for it first (ADR 0023). Admitted runs that expected to
    // continue their session's instance and found it gone take one now.
    if (plan.admitted) await deps.quota?.claimSlot(plan.admitted, plan.ownerId, session, run.requestId);
  });
  startedFrom(run, state);
  if (!session.instanceId || session.instanceId === state.instance.id || plan.admitted?.ownInstanceReclaimed) {
    return { state, replaced: undefined };
  }
  // The session's previous instance is not needed any more; only the end of the run waits for it to go.
  const replaced = deps.envManager.delete(session.instanceId, run.requestId).then(
    () => {},
    () => {},
  );
  return { state, replaced };
}

/** The one place a run learns how its state was obtained (also of a start that stopped part way). */
function startedFrom(run: RunState, facts: StartFacts): void {
  const { source, warmPool, layerKey, stepsReplayed, timings } = facts;
  run.start = { source, warmPool, layerKey, stepsReplayed, timings: { ...timings } };
  run.timings.restoreMs = timings.restoreMs;
  run.timings.replayMs = timings.replayMs;
}

/** The last event of a run that was not cancelled: how its state was obtained and what each phase took. */
function emitDone(run: RunState, outcome: 'ok' | 'error', instanceKey: string | null): void {
  const start = run.start;
  run.emit({
    type: 'done',
    outcome,
    source: start?.source ?? 'session',
    warmPool: start?.warmPool ?? false,
    layerKey: start?.layerKey ?? null,
    stepsReplayed: start?.stepsReplayed ?? 0,
    instanceKey,
    timings: run.timings,
  });
}

type RunOutcome = 'ok' | 'error' | 'cancelled' | 'failed';

/** What the run's record says of how it ended, but its SQLSTATE. */
function runRecord(run: RunState, outcome: RunOutcome) {
  return {
    outcome,
    source: run.start?.source ?? null,
    layerKey: run.start?.layerKey ?? null,
    stepsReplayed: run.start?.stepsReplayed ?? 0,
    timings: { ...run.timings },
  };
}

/** How a run ended for its caller: its id, and the failure that stopped it, if one did (its `error` was sent). */
export interface RunEnd {
  runId: string;
  failure?: RunFailure;
}

/**
 * One run, ARCHITECTURE §3: its starting state (start-state/), then the
 * head; every step of the way is an event. Emits `done` or `cancelled`
 * last, or an `error` naming the phase a failure of the platform stopped it
 * in (then answered in the RunEnd, for the caller's log).
 */
export async function executeRun(
  deps: RunnerDeps,
  registry: RunRegistry,
  plan: PlannedRun,
  emit: Emit,
  requestId: string,
): Promise<RunEnd> {
  const admitted = plan.admitted;
  const run = new RunState(admitted?.runId ?? randomUUID(), emit, requestId);
  run.timings.planMs = plan.planMs;
  const started = performance.now() - plan.planMs;
  const session = plan.session;
  emit({ type: 'started', runId: run.runId, sessionId: session.id });
  registry.add(plan.ownerId, run);
  // An admitted run was recorded by its admission. Otherwise bookkeeping stays off the critical path: awaited
  // before the run's record is finished, not before its first row.
  const recorded = admitted
    ? Promise.resolve()
    : insertRun(deps.pool, { id: run.runId, sessionId: session.id, ownerId: plan.ownerId });
  recorded.catch(() => {});
  let failure: RunFailure | undefined;
  let outcome: RunOutcome = 'failed';
  let errorSqlstate: string | null = null;
  /** Whether the run's record is finished already (with the session's state, at the end of a head). */
  let finished = false;
  let saved: Promise<void> = Promise.resolve();
  let replaced: Promise<void> | undefined;
  /** Whether the run's finished record still holds its instance slot (given back once `replaced` settles). */
  let keepsSlot = false;
  try {
    const prepared = await stateFor(deps, run, session, plan);
    const state = prepared.state;
    replaced = prepared.replaced;
    deps.metrics?.stateReady.observe({ source: state.source }, (performance.now() - started) / 1000);
    // A REPL continuation starts where the session's row already says it is: nothing to record before the head.
    const moved = state.instance.id !== session.instanceId || state.key !== session.currentKey;
    // A run that started an instance hands its slot to the session in the statement that points the session at
    // that instance. A run that replaced one keeps its slot until that one is deleted, even past its record.
    const handOver =
      admitted?.holdsSlot && !replaced && state.instance.id !== session.instanceId ? admitted.runId : undefined;
    saved = moved
      ? updateSessionState(
          deps.pool,
          session.id,
          { instanceId: state.instance.id, currentKey: state.key, startKey: state.instance.layerKey },
          handOver,
        )
      : Promise.resolve();
    saved.catch(() => {});
    // Keys of the head follow the instance's key; when that is unknown, so are they.
    run.phase = 'plan';
    const head = await plan.planHead(state.key ?? plan.emptyTail.baseKey);
    const result = await executeHead(deps, run, state, head);
    await saved;
    const ended = result.cancelled ? 'cancelled' : result.failed ? 'error' : 'ok';
    run.timings.totalMs = Math.round(performance.now() - started);
    // The run's record and the session's new state in one statement, before `done`: the next run reads it.
    // A run whose replaced instance is still being deleted keeps its slot past its record, until that is done.
    await recorded.catch(() => {});
    keepsSlot = replaced !== undefined && admitted?.holdsSlot === true;
    await finishRun(
      deps.pool,
      run.runId,
      { ...runRecord(run, ended), errorSqlstate: ended === 'error' ? result.failed : null },
      { id: session.id, instanceId: state.instance.id, currentKey: result.key },
      keepsSlot,
    );
    finished = true;
    // The instance is used (its idle TTL starts again), at its new key: told to env-manager with other runs'.
    deps.uses.note(state.instance.id, result.key);
    if (ended === 'cancelled') throw new RunCancelled();
    outcome = ended;
    emitDone(run, ended, result.key);
  } catch (caught) {
    let error = caught;
    if (error instanceof StartAborted) {
      startedFrom(run, error.facts);
      error = error.reason;
    }
    if (error instanceof RunCancelled || run.cancelled) {
      outcome = 'cancelled';
      emit({ type: 'cancelled', reason: run.cancelled ?? 'request' });
    } else if (error instanceof ReplayFailed) {
      outcome = 'error';
      errorSqlstate = error.sqlstate;
      run.timings.totalMs = Math.round(performance.now() - started);
      emitDone(run, outcome, null);
    } else {
      failure = error instanceof RunFailure ? error : new RunFailure(run.phase, error);
      errorSqlstate = failure.sqlstate;
      emit(failure.event());
    }
  } finally {
    registry.remove(run.runId);
    deps.metrics?.runs.inc({ outcome });
    if (!finished) {
      run.timings.totalMs = Math.round(performance.now() - started);
      // The session's new instance (if any) is recorded before the run's slot is given back.
      await Promise.allSettled([recorded, saved, replaced]);
      await finishRun(deps.pool, run.runId, { ...runRecord(run, outcome), errorSqlstate }).catch(() => {});
    }
    if (admitted && keepsSlot && replaced) deps.quota?.releaseWhen(admitted.runId, replaced);
    else if (admitted) deps.quota?.release(admitted.runId);
  }
  return failure ? { runId: run.runId, failure } : { runId: run.runId };
}
