import { memo } from 'react';
import type { HistoryEntry } from './history.js';

interface Props {
  entries: HistoryEntry[];
  sessionId: string;
  onOpen(entry: HistoryEntry): void;
}

/** Previous runs, the current session's first; opening one puts its SQL back in the editor. */
export const HistoryPanel = memo(function HistoryPanel({ entries, sessionId, onOpen }: Props) {
  const ordered = [
    ...entries.filter((e) => e.sessionId === sessionId),
    ...entries.filter((e) => e.sessionId !== sessionId),
  ];
  return (
    <section className="panel history" aria-label="Run history">
      <h2>History</h2>
      {ordered.length === 0 && <p className="muted">No runs yet.</p>}
      <ul>
        {ordered.slice(0, 30).map((e) => (
          <li key={e.id} data-testid="history-entry">
            <button
              type="button"
              onClick={() => onOpen(e)}
              aria-label={`Open run of ${new Date(e.atIso).toLocaleTimeString()}: ${e.head.slice(0, 60)}`}
              className={e.sessionId === sessionId ? 'current-session' : ''}
            >
              <span className={`badge ${e.status}`}>{e.status}</span>
              <code>{e.head.trim().split('\n')[0]?.slice(0, 48)}</code>
              <span className="muted">
                {new Date(e.atIso).toLocaleTimeString()} · {e.summary}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
});
