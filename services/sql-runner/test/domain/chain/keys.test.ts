import { beforeAll, describe, expect, it } from 'vitest';
import {
  CANONICAL_FORMAT_VERSION,
  canonicalize,
  computeBaseKey,
  loadParser,
  planChain,
} from '../../../src/domain/chain/index.js';
import { rekeyChain } from '../../../src/domain/chain/keys.js';

const options = { engineVersion: '18.1', settings: { TimeZone: 'UTC' } };
const finalKey = async (sql: string) => (await planChain([{ path: 'a.sql', sql }], options)).finalKey;
const keys = async (sql: string) => (await planChain([{ path: 'a.sql', sql }], options)).steps.map((s) => s.key);

describe('keys', () => {
  beforeAll(loadParser);

  it('do not change with whitespace, comments or keyword and unquoted identifier case', async () => {
    const a = await finalKey('create table t (a int);\ninsert into t values (1);');
    const b = await finalKey('-- header\nCREATE   TABLE T (\n  A INT /* col */\n) ;\nINSERT INTO t\n  VALUES (1)');
    expect(b).toBe(a);
  });

  it('change with a literal, a quoted identifier case, an operator, token boundaries or the order', async () => {
    const base = await finalKey('select \'a\', "x", 1 + 2;');
    for (const other of [
      'select \'A\', "x", 1 + 2;',
      'select \'a\', "X", 1 + 2;',
      'select \'a\', "x", 1 - 2;',
      'select \'a\', "x", 12;',
    ]) {
      expect(await finalKey(other)).not.toBe(base);
    }
    expect(await finalKey('select 1; select 2;')).not.toBe(await finalKey('select 2; select 1;'));
  });

  it('change with COPY data', async () => {
    const copy = (data: string) => finalKey(`copy t from stdin;\n${data}\\.\n`);
    expect(await copy('1\ta\n')).not.toBe(await copy('1\tb\n'));
    expect(await copy('1\ta\n')).toBe(await copy('1\ta\n'));
  });

  it('chain: each key depends on the previous one; equal prefixes share keys', async () => {
    const [a1, a2] = await keys('select 1; select 2;');
    const [b1, b2] = await keys('SELECT 1; select 3;');
    expect(a1).toBe(b1);
    expect(a2).not.toBe(b2);
  });

  it('cover what the server executes after \\set substitution', async () => {
    expect(await finalKey('\\set v 1\nselect :v;')).toBe(await finalKey('select 1;'));
  });

  it('base key depends on engine version, settings and format version, not on settings order', () => {
    const k = computeBaseKey({ engineVersion: '18.1', settings: { a: '1', b: '2' } });
    expect(computeBaseKey({ engineVersion: '18.1', settings: { b: '2', a: '1' } })).toBe(k);
    expect(computeBaseKey({ engineVersion: '18.2', settings: { a: '1', b: '2' } })).not.toBe(k);
    expect(computeBaseKey({ engineVersion: '18.1', settings: { a: '1' } })).not.toBe(k);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(CANONICAL_FORMAT_VERSION).toBe(1);
  });

  it('moved onto another start (rekeyChain) are the keys of the same steps planned from there', async () => {
    const sql = 'create table t (a int);\n\\echo hi\ncopy t from stdin;\n1\n\\.\nselect * from t;\n';
    const file = [{ path: 'head.sql', sql }];
    const checked = await planChain(file, { ...options, keepCanonical: true });
    expect(checked.steps.map((s) => s.kind)).toEqual(['CreateStmt', 'Echo', 'CopyStmt', 'SelectStmt']);
    const start = (await planChain([{ path: 'tail.sql', sql: 'create table u (b int);' }], options)).finalKey;
    const planned = await planChain(file, { ...options, startKey: start });
    const moved = rekeyChain(checked, start);
    expect(moved.baseKey).toBe(planned.baseKey);
    expect(moved.steps.map((s) => s.key)).toEqual(planned.steps.map((s) => s.key));
    expect(moved.finalKey).toBe(planned.finalKey);
    expect(() => rekeyChain(planned, start)).toThrow(/keepCanonical/);
  });

  it('canonical form folds keywords and unquoted ASCII identifiers only', () => {
    expect(canonicalize('SELECT Ab, "Ab", ÜB FROM T -- x')).toBe(canonicalize('select ab, "Ab", ÜB from t'));
    expect(canonicalize('select ÜB')).not.toBe(canonicalize('select üb'));
  });
});
