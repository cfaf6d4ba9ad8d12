import { describe, expect, it } from 'vitest';
import type { StoredState } from '../../src/domain/compare/state-read.js';
import { loadParser } from '../../src/domain/sql/tree.js';
import { verdictDigest, writeVerdict } from '../../src/domain/write.js';

await loadParser();

// The verdict on a write answer's state as stored (both sides' check query ran keyed, as the state reads run it).
const state = (checkRows: string[][], ordersDigest = 'a'): StoredState => ({
  tables: [{ table: 'public.orders', rows: checkRows.length, digest: ordersDigest }],
  catalog: [],
  check: {
    columns: [
      { name: 'name', type: 'text' },
      { name: '__taidon_order_key_1', type: 'integer' },
    ],
    rows: checkRows,
  },
});

describe('the verdict on the state a write answer left', () => {
  const compare = { check: 'SELECT name FROM orders ORDER BY qty DESC LIMIT 1' };

  it('compares the check as written: hidden sort keys dropped, the window of FETCH … WITH TIES taken', () => {
    // Keyed, the reference's check shows both tied top rows; either is the check's answer as written.
    const expected = state([
      ['tea', '5'],
      ['bread', '5'],
    ]);
    const answer = state(
      [
        ['bread', '5'],
        ['tea', '5'],
      ],
      'b',
    );
    const verdict = writeVerdict(expected, { ...answer, tables: expected.tables }, compare, 3);
    expect(verdict).toEqual({ passed: true });
    const wrong = writeVerdict(expected, { ...state([['cake', '7']]), tables: expected.tables }, compare, 3);
    expect(wrong).toMatchObject({ passed: false, reason: 'rows', extraRows: [['cake']] });
    expect(wrong.message).toContain('check query');
  });

  it('reports the check before the digest of a table it reads, and other changes when the check passes', () => {
    const expected = state([['tea', '5']]);
    const changed = writeVerdict(expected, state([['cake', '7']], 'b'), compare, 3);
    expect(changed).toMatchObject({ passed: false, reason: 'rows' });
    const otherwise = writeVerdict(expected, state([['tea', '5']], 'b'), compare, 3);
    expect(otherwise).toMatchObject({ passed: false, reason: 'tables', otherChanges: ['public.orders'] });
  });

  it('fails a state left in an open transaction, and digests verdicts per dataset', () => {
    const expected = state([['tea', '5']]);
    expect(writeVerdict(expected, { ...expected, openTransaction: true }, compare, 3)).toMatchObject({
      passed: false,
      reason: 'error',
    });
    const a = verdictDigest([{ dataset: 'start', passed: false, reason: 'rows' }], ['x']);
    expect(verdictDigest([{ dataset: 'start', passed: false, reason: 'rows' }], ['x'])).toBe(a);
    expect(verdictDigest([{ dataset: 'start', passed: false, reason: 'rows' }], ['y'])).not.toBe(a);
  });
});
