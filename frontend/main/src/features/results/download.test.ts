import { describe, expect, it } from 'vitest';
import type { ResultSetView } from '../run/run-model.js';
import { csvParts, downloadName, jsonParts, resultFile } from './download.js';

const result = (rows: (string | null)[][], names = ['id', 'note']): ResultSetView => ({
  statement: 0,
  columns: names.map((name) => ({ name, type: 'text' })),
  rows,
  command: 'SELECT',
  rowCount: rows.length,
  truncated: false,
  complete: true,
});

/** Reads CSV back as RFC 4180 defines it; an unquoted empty field is NULL, a quoted one the empty string. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new Error('unterminated quote');
        value += text.slice(i, close);
        i = close + 1;
        if (text[i] !== '"') break;
        value += '"';
        i++;
      }
      field = value;
    } else {
      const end = text.slice(i).search(/,|\r\n/);
      const value = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += value.length;
      field = value === '' ? null : value;
    }
    row.push(field);
    if (text.startsWith(',', i)) i++;
    else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (i < text.length) throw new Error(`unexpected character at ${i}`);
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

const awkward: (string | null)[][] = [
  ['1', 'a, "quoted"\tvalue'],
  ['2', null],
  ['3', ''],
  ['4', 'two\r\nlines\nand a bare LF'],
  ['5', ' spaced '],
];

describe('result downloads', () => {
  it('writes CSV with RFC 4180 quoting and CRLF lines, NULL apart from the empty string', () => {
    const text = [...csvParts(result(awkward))].join('');
    expect(text.split('\r\n').slice(0, 4)).toEqual(['id,note', '1,"a, ""quoted""\tvalue"', '2,', '3,""']);
    expect(parseCsv(text)).toEqual([['id', 'note'], ...awkward]);
  });

  it('cuts the file into parts of whole rows that join to the same text', () => {
    const rows = Array.from({ length: 23 }, (_, i) => [String(i), i % 3 === 0 ? null : `v,${i}`]);
    const parts = [...csvParts(result(rows), 5)];
    expect(parts).toHaveLength(1 + 5);
    expect(parts.join('')).toBe([...csvParts(result(rows), 1_000)].join(''));
    expect(JSON.parse([...jsonParts(result(rows), 5)].join(''))).toEqual(
      JSON.parse([...jsonParts(result(rows), 1_000)].join('')),
    );
  });

  it('writes JSON objects keyed by column, repeated names kept apart, values as text or null', () => {
    const text = [
      ...jsonParts(
        result(
          [
            ['1', null],
            ['2', '"x"'],
          ],
          ['a', 'a'],
        ),
      ),
    ].join('');
    expect(JSON.parse(text)).toEqual([
      { a: '1', 'a (2)': null },
      { a: '2', 'a (2)': '"x"' },
    ]);
    expect(JSON.parse([...jsonParts(result([]))].join(''))).toEqual([]);
  });

  it('builds a file of 100,000 rows with every row in it', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [String(i), i % 7 === 0 ? null : `row "${i}", ok`]);
    let progress = 0;
    const blob = await resultFile(result(rows), 'csv', (done) => {
      progress = done;
    });
    expect(progress).toBe(100_000);
    const back = parseCsv(await blob.text());
    expect(back).toHaveLength(100_001);
    expect(back.slice(1)).toEqual(rows);
    expect(blob.type).toBe('text/csv;charset=utf-8');
  });

  it('names files after the result and the minute', () => {
    expect(downloadName(0, 'json', new Date('2026-12-05T08:12:59Z'))).toBe('taidon-result-1-20261205-0812.json');
  });
});
