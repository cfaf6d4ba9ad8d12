import { describe, expect, it } from 'vitest';
import type { ResultSetView } from '../run/run-model.js';
import { formatResult } from './copy.js';

const result: ResultSetView = {
  statement: 0,
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'note', type: 'text' },
  ],
  rows: [
    ['1', 'a, "quoted"\tvalue'],
    ['2', null],
  ],
  command: 'SELECT',
  rowCount: 2,
  truncated: false,
  complete: true,
};

describe('formatResult', () => {
  it('writes CSV with RFC 4180 quoting and NULL as an empty field', () => {
    expect(formatResult(result, 'csv')).toBe('id,note\n1,"a, ""quoted""\tvalue"\n2,');
  });

  it('writes TSV as COPY text does: tabs escaped, NULL as \\N', () => {
    expect(formatResult(result, 'tsv')).toBe('id\tnote\n1\ta, "quoted"\\tvalue\n2\t\\N');
  });

  it('writes a Markdown table with NULL in italics', () => {
    expect(formatResult(result, 'markdown')).toBe(
      '| id | note |\n| --- | --- |\n| 1 | a, "quoted"\tvalue |\n| 2 | *NULL* |',
    );
  });
});
