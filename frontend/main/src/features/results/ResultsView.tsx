import { useEffect, useState } from 'react';
import type { RunView } from '../run/run-model.js';
import { type CopyFormat, copyText, formatResult } from './copy.js';
import { type DownloadFormat, downloadName, resultFile, saveFile } from './download.js';
import { ResultGrid } from './ResultGrid.js';

interface Props {
  run: RunView | null;
  onFirstRowPainted?: (() => void) | undefined;
  /** Positions of the error in the buffer, for display ("line 3, column 8"). */
  errorPosition: { line: number; column: number } | null;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

function ErrorPanel({ run, position }: { run: RunView; position: Props['errorPosition'] }) {
  const error = run.error;
  if (!error) return null;
  return (
    <div className="run-error" role="alert" data-testid="run-error">
      <div>
        <strong>ERROR</strong> <code data-testid="sqlstate">{error.sqlstate}</code> {error.message}
      </div>
      {error.detail && <div>Detail: {error.detail}</div>}
      {error.hint && <div data-testid="error-hint">Hint: {error.hint}</div>}
      {position && (
        <div data-testid="error-position">
          At line {position.line}, column {position.column}
          {error.statement !== undefined ? ` (statement ${error.statement + 1})` : ''}, while{' '}
          {error.phase === 'execute' ? 'executing' : error.phase === 'replay' ? 'replaying the tail' : 'restoring'}
        </div>
      )}
      {error.code && <div>Platform code: {error.code}</div>}
    </div>
  );
}

function Messages({ run }: { run: RunView }) {
  return (
    <div className="messages" data-testid="messages">
      {run.commands.map((c) => (
        <div key={`c${c.statement}`} data-testid="command-result">
          Statement {c.statement + 1}: {c.command}
          {c.rowCount !== null && ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'].includes(c.command)
            ? ` — ${plural(c.rowCount, 'row')} affected`
            : ''}
        </div>
      ))}
      {run.notices.map((n, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: notices are append-only
        <div key={`n${i}`} className="notice" data-testid="notice">
          {n.severity}: {n.message}
        </div>
      ))}
      {run.commands.length === 0 && run.notices.length === 0 && <div className="muted">No messages.</div>}
    </div>
  );
}

/** Result sets of a run, each in its own tab, plus messages (row counts of DML, notices) and the error. */
export function ResultsView({ run, onFirstRowPainted, errorPosition }: Props) {
  const [tab, setTab] = useState(0);
  const [copied, setCopied] = useState('');
  const [preparing, setPreparing] = useState(false);
  const runKey = run?.localId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new run starts on its first tab
  useEffect(() => setTab(0), [runKey]);
  if (!run) return <div className="results empty muted">Run SQL with Ctrl+Enter to see results here.</div>;
  const tabs = [...run.results.map((r, i) => `Result ${i + 1} (${plural(r.rows.length, 'row')})`), 'Messages'];
  const active = Math.min(tab, tabs.length - 1);
  const result = run.results[active];
  const copy = async (format: CopyFormat) => {
    if (!result) return;
    await copyText(formatResult(result, format));
    setCopied(`Copied ${plural(result.rows.length, 'row')} as ${format.toUpperCase()}`);
  };
  // The file is built from the rows this page holds (never a second run, whose state and rows may differ).
  const download = async (format: DownloadFormat) => {
    if (!result || preparing) return;
    setPreparing(true);
    try {
      const total = result.rows.length;
      const blob = await resultFile(result, format, (done) =>
        setCopied(`Preparing ${done.toLocaleString('en')} of ${plural(total, 'row')}…`),
      );
      saveFile(blob, downloadName(active, format));
      setCopied(`Downloaded ${plural(total, 'row')} as ${format.toUpperCase()}`);
    } finally {
      setPreparing(false);
    }
  };
  return (
    <section className="results" aria-label="Results">
      <ErrorPanel run={run} position={errorPosition} />
      <div className="tabs" role="tablist" aria-label="Result sets">
        {tabs.map((label, i) => (
          <button
            type="button"
            role="tab"
            key={label.replace(/ \(.*/, '')}
            aria-selected={i === active}
            data-testid={i < run.results.length ? 'result-tab' : 'messages-tab'}
            onClick={() => setTab(i)}
          >
            {label}
          </button>
        ))}
      </div>
      {result ? (
        <div className="tab-panel" role="tabpanel" aria-label={tabs[active]}>
          <div className="result-toolbar">
            <span data-testid="result-summary">
              {plural(result.rows.length, 'row')}
              {result.complete ? '' : ' so far…'}
            </span>
            {result.truncated && (
              <span className="truncated" data-testid="truncated">
                Truncated: the server sent only the first {plural(result.rows.length, 'row')}
              </span>
            )}
            <span className="spacer" />
            {(['csv', 'tsv', 'markdown'] as const).map((f) => (
              <button
                type="button"
                key={f}
                onClick={() => void copy(f)}
                aria-label={`Copy result as ${f.toUpperCase()}`}
              >
                Copy {f === 'markdown' ? 'Markdown' : f.toUpperCase()}
              </button>
            ))}
            {(['csv', 'json'] as const).map((f) => (
              <button
                type="button"
                key={`download-${f}`}
                onClick={() => void download(f)}
                disabled={!result.complete || preparing}
                aria-label={`Download result as a ${f.toUpperCase()} file`}
                data-testid={`download-${f}`}
              >
                ⤓ {f.toUpperCase()}
              </button>
            ))}
            <span role="status" className="muted" data-testid="result-status">
              {copied}
            </span>
          </div>
          <ResultGrid
            // A new run's rows are shown in the last run's grid (its elements given new text): building a grid
            // anew, its elements styled and laid out from nothing, was most of the time to a run's first paint.
            key={active}
            runKey={run.localId}
            result={result}
            version={run.version}
            label={`Result ${active + 1}`}
            onFirstRowPainted={active === 0 ? onFirstRowPainted : undefined}
          />
        </div>
      ) : (
        <div className="tab-panel" role="tabpanel" aria-label="Messages">
          <Messages run={run} />
        </div>
      )}
    </section>
  );
}
