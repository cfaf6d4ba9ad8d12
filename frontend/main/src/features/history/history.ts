import { describeSource, type RunView } from '../run/run-model.js';

/** A finished run as history keeps it: enough to re-open its SQL and recall how it went. */
export interface HistoryEntry {
  id: string;
  atIso: string;
  sessionId: string | null;
  tail: string;
  head: string;
  status: string;
  source: string | null;
  totalMs: number | null;
  summary: string;
}

const KEY = 'taidon.history';
const MAX_ENTRIES = 100;

/** Runs kept in this browser, newest first. */
export function loadHistory(storage: Storage = localStorage): HistoryEntry[] {
  try {
    const parsed = JSON.parse(storage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

/** Adds a run to the front of history (dropping the oldest past MAX_ENTRIES) and returns the new list. */
export function addHistory(entry: HistoryEntry, storage: Storage = localStorage): HistoryEntry[] {
  const next = [entry, ...loadHistory(storage).filter((e) => e.id !== entry.id)].slice(0, MAX_ENTRIES);
  try {
    storage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage full: history is a convenience, the run itself succeeded.
  }
  return next;
}

/** The history entry of a finished run: its SQL, outcome and a one-line summary. */
export function historyEntryOf(run: RunView): HistoryEntry {
  return {
    id: run.localId,
    atIso: new Date().toISOString(),
    sessionId: run.sessionId,
    tail: run.tail,
    head: run.head,
    status: run.status,
    source: run.done?.source ?? null,
    totalMs: run.done?.timings.totalMs ?? null,
    summary: run.error
      ? `${run.error.sqlstate} ${run.error.message}`.slice(0, 80)
      : run.done
        ? `${describeSource(run.done)}, ${run.done.timings.totalMs} ms`
        : run.status,
  };
}
