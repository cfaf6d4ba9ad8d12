import { useMemo } from 'react';
import { positionIn } from '../editor/buffer.js';
import { ExplainPanel } from '../features/explain/ExplainPanel.js';
import type { ExplainView } from '../features/explain/use-explain.js';
import { ResultsView } from '../features/results/ResultsView.js';
import { type RunStore, useRunOf } from '../features/run/use-runner.js';
import { bufferOffset } from './plan-markers.js';

interface Props {
  /** Where the tab's last run is read: this pane renders when it changes, without the page around it. */
  runs: RunStore;
  tabId: string;
  /** The tab's buffer, where the run's error is placed ("line 3, column 8"). */
  text: string;
  explain: ExplainView | null;
  /** Which of the tab's last run and last plan is shown, when it has both. */
  pane: 'results' | 'plan';
  onPane(pane: 'results' | 'plan'): void;
}

const markFirstRowPainted = () => performance.mark('taidon:first-row-painted');

/**
 * Below the editor: the tab's last run, or its last plan, with a switch between them when it has both. Not
 * memoized: a plan is updated in place, and shown when the page renders.
 */
export function ResultsPane({ runs, tabId, text, explain, pane, onPane }: Props) {
  const run = useRunOf(runs, tabId);
  const error = run?.error;
  const errorPosition = useMemo(() => {
    const offset = run && error ? bufferOffset(error, run) : undefined;
    return offset === undefined ? null : positionIn(text, offset);
  }, [run, error, text]);
  return (
    <div className="results-pane">
      {explain && run && (
        <div className="tabs pane-switch" role="tablist" aria-label="Results or plan">
          <button
            type="button"
            role="tab"
            aria-selected={pane === 'results'}
            onClick={() => onPane('results')}
            data-testid="pane-results"
          >
            Results
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={pane === 'plan'}
            onClick={() => onPane('plan')}
            data-testid="pane-plan"
          >
            Plan
          </button>
        </div>
      )}
      {explain && (pane === 'plan' || !run) ? (
        <ExplainPanel key={explain.localId} view={explain} />
      ) : (
        <ResultsView run={run} errorPosition={errorPosition} onFirstRowPainted={markFirstRowPainted} />
      )}
    </div>
  );
}
