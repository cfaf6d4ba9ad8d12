import { ExplainPanel } from '../features/explain/ExplainPanel.js';
import type { ExplainView } from '../features/explain/use-explain.js';
import { ResultsView } from '../features/results/ResultsView.js';
import type { RunView } from '../features/run/run-model.js';

interface Props {
  run: RunView | null;
  explain: ExplainView | null;
  /** Which of the tab's last run and last plan is shown, when it has both. */
  pane: 'results' | 'plan';
  onPane(pane: 'results' | 'plan'): void;
  errorPosition: { line: number; column: number } | null;
}

/** Below the editor: the tab's last run, or its last plan, with a switch between them when it has both. */
export function ResultsPane({ run, explain, pane, onPane, errorPosition }: Props) {
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
        <ResultsView
          run={run}
          errorPosition={errorPosition}
          onFirstRowPainted={() => performance.mark('taidon:first-row-painted')}
        />
      )}
    </div>
  );
}
