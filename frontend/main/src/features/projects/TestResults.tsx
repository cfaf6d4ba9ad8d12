import { describeFailure, type TestsView } from './test-results.js';

/** The project's tests as they stream in: one line per file, passed or failed with where and why. */
export function TestResults({ view }: { view: TestsView }) {
  return (
    <div className="project-tests" data-testid="project-tests" data-status={view.status}>
      <p className="muted">
        {view.status === 'running' && <span className="spinner" aria-hidden="true" />}
        {view.prepared
          ? `State ${view.prepared.source === 'layer' ? 'from its cached layer' : `built (${view.prepared.stepsReplayed} steps)`} in ${Math.round(view.prepared.prepareMs)} ms. `
          : view.status === 'running'
            ? 'Preparing the state… '
            : ''}
        {view.totals &&
          `${view.totals.passed} passed, ${view.totals.failed} failed in ${Math.round(view.totals.totalMs)} ms.`}
      </p>
      {view.error && (
        <p className="run-error" data-testid="project-tests-error">
          {view.error.code}: {view.error.message}
          {view.error.path ? ` (${view.error.path}${view.error.line ? `:${view.error.line}` : ''})` : ''}
        </p>
      )}
      <ul>
        {view.files.map((file) => (
          <li key={file.path} data-testid="project-test-file" data-path={file.path} data-outcome={file.outcome}>
            <span className={`badge ${file.outcome === 'passed' ? 'ok' : file.outcome === 'failed' ? 'error' : ''}`}>
              {file.outcome}
            </span>{' '}
            <code>{file.path}</code>
            {file.durationMs !== undefined && <span className="muted"> {Math.round(file.durationMs)} ms</span>}
            {file.failure && <div className="run-error">{describeFailure(file.failure)}</div>}
            {file.statementMs && (
              <div className="muted">
                {file.statementMs.map((s) => `line ${s.line}: ${s.ms.toFixed(1)} ms`).join(' · ')}
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
