import { memo, useEffect, useState } from 'react';
import { describePhase, describeSource, type RunView } from './run-model.js';
import { type RunStore, useRunOf } from './use-runner.js';

const ms = (n: number) => `${Math.round(n).toLocaleString('en')} ms`;

/** What the run is doing right now, and once finished how the state was obtained and what each phase took. */
export function RunPanel({ run, onCancel }: { run: RunView | null; onCancel(): void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (run?.status !== 'running') return;
    const timer = setInterval(() => tick((n) => n + 1), 250);
    return () => clearInterval(timer);
  }, [run?.status]);
  if (!run) return null;
  const elapsed = performance.now() - run.startedAtMs;
  const done = run.done;
  return (
    <section
      className="panel run-panel"
      aria-label="Run status"
      data-testid="run-panel"
      data-status={run.status}
      data-run={run.localId}
    >
      <h2>Run</h2>
      <div role="status" aria-live="polite" data-testid="run-status">
        {run.status === 'running' ? (
          <>
            <span className="spinner" aria-hidden="true" />{' '}
            <span data-testid="run-phase">{run.phase ? describePhase(run.phase) : 'starting'}</span>…{' '}
            <span className="muted">{ms(elapsed)}</span>
          </>
        ) : run.status === 'cancelled' ? (
          <span>Cancelled ({run.cancelReason})</span>
        ) : (
          <span className={`badge ${run.status}`}>{run.status === 'ok' ? 'Finished' : 'Finished with an error'}</span>
        )}
      </div>
      {run.status === 'running' && (
        <button type="button" onClick={onCancel} aria-label="Cancel the run" disabled={!run.runId}>
          Cancel
        </button>
      )}
      {done && (
        <dl className="timings" data-testid="run-summary">
          <dt>State from</dt>
          <dd data-testid="state-source" data-source={done.source} data-warm-pool={String(done.warmPool)}>
            {describeSource(done)}
          </dd>
          {done.layerKey && (
            <>
              <dt>Layer</dt>
              <dd>
                <code title={done.layerKey}>{done.layerKey.slice(0, 12)}</code>
              </dd>
            </>
          )}
          <dt>Steps replayed</dt>
          <dd data-testid="steps-replayed">{done.stepsReplayed}</dd>
          <dt>Plan</dt>
          <dd>{ms(done.timings.planMs)}</dd>
          <dt>Restore</dt>
          <dd>{ms(done.timings.restoreMs)}</dd>
          <dt>Replay</dt>
          <dd>{ms(done.timings.replayMs)}</dd>
          <dt>Execute</dt>
          <dd>{ms(done.timings.executeMs)}</dd>
          <dt>Total</dt>
          <dd data-testid="total-ms">{ms(done.timings.totalMs)}</dd>
        </dl>
      )}
    </section>
  );
}

/** The run panel of a tab's last run, rendered when that run changes (not with the page). */
export const LiveRunPanel = memo(function LiveRunPanel({
  store,
  tabId,
  onCancel,
}: {
  store: RunStore;
  tabId: string;
  onCancel(): void;
}) {
  return <RunPanel run={useRunOf(store, tabId)} onCancel={onCancel} />;
});
