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
