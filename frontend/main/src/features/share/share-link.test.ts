import { SHARE_RESULTS_MAX_CHARS } from '@taidon/contracts';
import { describe, expect, it } from 'vitest';
import { newRunView, type RunView } from '../run/run-model.js';
import { runViewOfShared, sharedResultsOf } from './share-link.js';

/** The buffer's parts the finished runs below ran. */
const PARTS = { tail: '', head: 'SELECT' };
const finished = (rows: (string | null)[][], truncated = false): RunView => {
  const view = newRunView({ tail: '', head: 'SELECT', headOffset: 0, sessionId: 's' });
  view.status = 'ok';
  view.results = [
    {
      statement: 0,
      columns: [{ name: 'v', type: 'text' }],
      rows,
      command: 'SELECT',
      rowCount: rows.length,
      truncated,
      complete: true,
    },
  ];
  return view;
};

describe('the results a share link carries', () => {
  it('are the run’s rows as they were, NULLs apart from empty strings', () => {
    const results = sharedResultsOf(finished([['a'], [null], ['']]), PARTS);
    expect(results).toEqual([
      { columns: [{ name: 'v', type: 'text' }], rows: [['a'], [null], ['']], truncated: false },
    ]);
  });

  it('are none for a run that failed, is still running, or returned no result set', () => {
    const failed = finished([['a']]);
    failed.status = 'error';
    expect(sharedResultsOf(failed, PARTS)).toBeUndefined();
    const running = finished([['a']]);
    running.status = 'running';
    expect(sharedResultsOf(running, PARTS)).toBeUndefined();
    const none = finished([]);
    none.results = [];
    expect(sharedResultsOf(none, PARTS)).toBeUndefined();
    expect(sharedResultsOf(null, PARTS)).toBeUndefined();
    // A run of other SQL than the link shares (an older text of the buffer, a selection).
    expect(sharedResultsOf(finished([['a']]), { tail: '', head: 'SELECT 2' })).toBeUndefined();
    expect(sharedResultsOf(finished([['a']]), { tail: 'CREATE TABLE t ();', head: 'SELECT' })).toBeUndefined();
  });

  it('keep at most 1,000 rows and fit the characters a link may carry, saying they were cut', () => {
    const many = sharedResultsOf(finished(Array.from({ length: 5000 }, (_, i) => [String(i)])), PARTS);
    expect(many?.[0]?.rows).toHaveLength(1000);
    expect(many?.[0]?.truncated).toBe(true);
    const wide = sharedResultsOf(finished(Array.from({ length: 1000 }, () => ['x'.repeat(1000)])), PARTS);
    expect(JSON.stringify(wide).length).toBeLessThanOrEqual(SHARE_RESULTS_MAX_CHARS);
    expect(wide?.[0]?.rows.length).toBeGreaterThan(100);
    expect(wide?.[0]?.truncated).toBe(true);
  });

  it('open as a finished run’s view of the same rows', () => {
    const view = runViewOfShared(
      [{ columns: [{ name: 'n', type: 'int4' }], rows: [['1']], truncated: false }],
      'SELECT 1',
    );
    expect(view).toMatchObject({ status: 'ok', head: 'SELECT 1' });
    expect(view.results).toEqual([
      {
        statement: 0,
        columns: [{ name: 'n', type: 'int4' }],
        rows: [['1']],
        command: null,
        rowCount: 1,
        truncated: false,
        complete: true,
      },
    ]);
  });
});
