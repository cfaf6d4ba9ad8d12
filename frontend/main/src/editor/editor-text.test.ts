import { describe, expect, it } from 'vitest';
import { HEAD_MARKER, offsetOf, partsOf, positionIn, withMarkerAt } from './buffer.js';
import { formatSql } from './format.js';
import { splitStatements, statementAt } from './split.js';

describe('splitStatements', () => {
  it('splits at top-level semicolons only, skipping quotes, dollar quotes and comments', () => {
    const sql = 'SELECT \';\' AS a; -- no; split\nSELECT $x$ ; $x$;\n/* ; /* nested; */ */ SELECT "a;b" FROM t;';
    expect(splitStatements(sql).map((s) => s.text.trim())).toEqual([
      "SELECT ';' AS a;",
      '-- no; split\nSELECT $x$ ; $x$;',
      '/* ; /* nested; */ */ SELECT "a;b" FROM t;',
    ]);
  });

  it('finds the statement under the cursor, or the one just before it', () => {
    const sql = 'SELECT 1;\nSELECT 2;\n';
    expect(statementAt(sql, 3)?.text).toBe('SELECT 1;');
    expect(statementAt(sql, sql.indexOf('2'))?.text.trim()).toBe('SELECT 2;');
    expect(statementAt(sql, sql.length)?.text.trim()).toBe('SELECT 2;');
  });
});

describe('the tail/head buffer', () => {
  it('cuts at the marker line and knows where the head starts', () => {
    const text = `CREATE TABLE t (x int);\n${HEAD_MARKER}\nSELECT * FROM t;`;
    const parts = partsOf(text);
    expect(parts).toMatchObject({ tail: 'CREATE TABLE t (x int);', head: 'SELECT * FROM t;', markerLine: 2 });
    expect(text.slice(parts.headOffset)).toBe('SELECT * FROM t;');
    expect(partsOf('SELECT 1;')).toEqual({ tail: '', head: 'SELECT 1;', headOffset: 0, markerLine: 0 });
  });

  it('maps a 1-based line and column to an offset', () => {
    expect(offsetOf('ab\ncd\nef', 3, 2)).toBe(7);
  });

  it('moves the marker above a line, or removes it', () => {
    const text = `a;\n${HEAD_MARKER}\nb;\nc;`;
    expect(withMarkerAt(text, 4)).toBe(`a;\nb;\n${HEAD_MARKER}\nc;`);
    expect(withMarkerAt(text, 0)).toBe('a;\nb;\nc;');
  });
});

describe('formatSql', () => {
  it('upper-cases keywords and puts each main clause on its own line', () => {
    expect(formatSql('select a, b from t where a > 1 order by b; select 1')).toBe(
      'SELECT a, b\nFROM t\nWHERE a > 1\nORDER BY b;\n\nSELECT 1\n',
    );
  });

  it('leaves statements with literals or comments in their layout', () => {
    expect(formatSql("select  'from x'   from t;")).toBe("SELECT  'from x'   FROM t;\n");
  });
});

describe('positionIn', () => {
  it('gives the 1-based line and column of an offset, the inverse of offsetOf, clamped to the text', () => {
    const text = 'SELECT pg_sleep(2);\nSELECT * FROM nowhere;\n';
    expect(positionIn(text, text.indexOf('nowhere'))).toEqual({ line: 2, column: 15 });
    expect(positionIn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(positionIn(text, text.indexOf('\n'))).toEqual({ line: 1, column: 20 });
    expect(positionIn(text, 10_000)).toEqual({ line: 3, column: 1 });
    for (const offset of [0, 5, 19, 20, 33]) {
      const { line, column } = positionIn(text, offset);
      expect(offsetOf(text, line, column)).toBe(offset);
    }
  });
});
