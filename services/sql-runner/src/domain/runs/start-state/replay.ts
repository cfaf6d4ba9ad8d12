import type { InstanceInfo } from '../../../clients/env-manager.js';
import type { Step } from '../../chain/index.js';
import type { SessionConnection } from '../connections.js';
import { RunCancelled } from '../context.js';
import { guardDiskUse, statementErrorEvent } from '../disk-guard.js';
import { isServerError } from '../errors.js';
import { executeStep } from '../execute.js';
import { takeLayer } from './restore.js';
import type { StartFacts } from './start-state.js';
import type { StartRequest } from './strategy.js';

/** A replayed tail step failed: the tail itself is wrong, the run cannot start. Its `error` event is sent. */
export class ReplayFailed extends Error {
  constructor(readonly sqlstate: string) {
    super('replay failed');
    this.name = 'ReplayFailed';
  }
}

/** Points after which a layer is worth taking: script boundaries, the end of the tail, and long replays. */
function isLayerPoint(steps: Step[], index: number, sinceLastLayerMs: number, layerEveryMs: number): boolean {
  const step = steps[index];
  if (!step || step.opensTransaction || step.kind === 'Echo') return false;
  const next = steps[index + 1];
  return next === undefined || next.path !== step.path || sinceLastLayerMs >= layerEveryMs;
}

/** An instance being brought to the tail's state, with the learner's connection to it. */
export interface Replaying {
  instance: InstanceInfo;
  connection: SessionConnection;
}

/**
 * Replays the tail steps after `fromIndex` on the instance, taking layers
 * at snapshotable points; counts them in `facts` as it goes, so a replay
 * that stops part way still says how far it got.
 */
export async function replayTail(
  request: StartRequest,
  target: Replaying,
  fromIndex: number,
  facts: StartFacts,
): Promise<void> {
  const { deps, run, session, tail } = request;
  const { atomicSnapshot } = await deps.snapshotCache.driverInfo(run.requestId);
  const steps = tail.steps;
  const started = performance.now();
  let lastLayerAt = performance.now();
  let lastLayerKey = fromIndex < 0 ? tail.baseKey : (steps[fromIndex]?.key ?? tail.baseKey);
  run.phase = 'replay';
  for (let i = fromIndex + 1; i < steps.length; i++) {
    const step = steps[i] as Step;
    if (run.cancelled) throw new RunCancelled();
    run.emit({ type: 'progress', phase: 'replay', step: i + 1, of: steps.length });
    await replayStep(request, target.connection, step, i);
    facts.stepsReplayed++;
    deps.metrics?.replaySteps.inc();
    if (isLayerPoint(steps, i, performance.now() - lastLayerAt, deps.layerEveryMs)) {
      target.instance = await takeLayer(deps, run, target.instance, {
        key: step.key,
        parentKey: lastLayerKey,
        stepCount: i + 1,
        buildMs: Math.round(performance.now() - lastLayerAt),
      });
      // A snapshot that had to stop the server (copy driver) closed the connections.
      if (!atomicSnapshot) {
        await deps.connections.drop(session.id);
        target.connection = await deps.connections.open(session.id, target.instance);
      }
      lastLayerKey = step.key;
      lastLayerAt = performance.now();
    }
    facts.timings.replayMs = Math.round(performance.now() - started);
  }
  facts.timings.replayMs = Math.round(performance.now() - started);
}

/** One tail step, under the wall-clock and disk guards; its server error becomes the run's `error` event. */
async function replayStep(request: StartRequest, connection: SessionConnection, step: Step, index: number) {
  const { deps, run } = request;
  run.cancelInFlight = () => connection.cancel();
  const guard = setTimeout(() => void connection.cancel().catch(() => {}), deps.statementTimeoutMs);
  const disk = guardDiskUse(connection, deps.databaseMaxBytes, step.kind);
  try {
    await executeStep(connection.learner, step, index, () => {}, deps.limits, connection.types);
  } catch (error) {
    if (run.cancelled) throw new RunCancelled();
    if (!isServerError(error)) throw error;
    const event = statementErrorEvent(error, step, 'replay', index, disk);
    run.emit(event);
    throw new ReplayFailed(event.sqlstate);
  } finally {
    disk.stop();
    clearTimeout(guard);
    run.cancelInFlight = undefined;
  }
}
