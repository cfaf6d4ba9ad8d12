import { type PlanInput, SHARE_PAGE_PREFIX, SHARE_RESULTS_MAX_CHARS, type SharedResults } from '@taidon/contracts';
import { HEAD_MARKER } from '../../editor/buffer.js';
import { newRunView, type RunView } from '../run/run-model.js';

/** The share link id of a page path (`/s/{id}`), or undefined on any other page. */
export function shareIdOfPath(path: string): string | undefined {
  if (!path.startsWith(SHARE_PAGE_PREFIX)) return undefined;
  const id = path.slice(SHARE_PAGE_PREFIX.length).split('/')[0] ?? '';
  return id === '' ? undefined : decodeURIComponent(id);
}

/** The buffer a share link opens as: its tail's text above the head marker, its head below. */
export function bufferOfShare(share: { tail: PlanInput | null; head: string }): string {
  const tail =
    share.tail === null ? '' : 'sql' in share.tail ? share.tail.sql : share.tail.files.map((f) => f.sql).join('\n');
  return tail.trim() === '' ? share.head : `${tail.replace(/\n+$/, '')}\n${HEAD_MARKER}\n${share.head}`;
}

/** The full URL of a link whose answer gave `path`, on this site. */
export const absoluteShareUrl = (path: string): string => new URL(path, window.location.origin).toString();

/** Rows one result set of a link keeps, and result sets a link keeps (the server's bounds). */
const MAX_SHARED_ROWS = 1000;
const MAX_SHARED_SETS = 20;
const MAX_SHARED_COLUMNS = 200;

/**
 * The results of a finished run of the shared tail and head as a link may carry them, or undefined when there
 * are none (or the run was of other SQL): at most
 * MAX_SHARED_SETS result sets of MAX_SHARED_ROWS rows, then rows halved (largest set first) until the JSON fits
 * SHARE_RESULTS_MAX_CHARS; a set that lost rows says `truncated`.
 */
export function sharedResultsOf(
  run: RunView | null | undefined,
  shared: { tail: string; head: string },
): SharedResults | undefined {
  if (run?.status !== 'ok' || run.results.length === 0) return undefined;
  // Only the results of the SQL the link shares: not of an older text of the buffer, nor of a selection.
  if (run.head.trim() !== shared.head.trim() || run.tail.trim() !== shared.tail.trim()) return undefined;
  const sets = run.results.slice(0, MAX_SHARED_SETS).map((r) => ({
    columns: r.columns
      .slice(0, MAX_SHARED_COLUMNS)
      .map((c) => ({ name: c.name.slice(0, 256), type: c.type.slice(0, 256) })),
    rows: r.rows.slice(0, MAX_SHARED_ROWS).map((row) => row.slice(0, MAX_SHARED_COLUMNS)),
    truncated: r.truncated || r.rows.length > MAX_SHARED_ROWS,
  }));
  while (JSON.stringify(sets).length > SHARE_RESULTS_MAX_CHARS) {
    const largest = sets.reduce((a, b) => (b.rows.length > a.rows.length ? b : a));
    if (largest.rows.length === 0) return undefined; // the columns alone are too large
    largest.rows = largest.rows.slice(0, Math.floor(largest.rows.length / 2));
    largest.truncated = true;
  }
  return sets;
}

/** A finished run's view of the results a link carries, shown until the learner's own run replaces it. */
export function runViewOfShared(results: SharedResults, head: string): RunView {
  const view = newRunView({ tail: '', head, headOffset: 0, sessionId: '' });
  view.status = 'ok';
  view.results = results.map((r, statement) => ({
    statement,
    columns: r.columns,
    rows: r.rows,
    command: null,
    rowCount: r.rows.length,
    truncated: r.truncated,
    complete: true,
  }));
  view.version = 1;
  return view;
}
