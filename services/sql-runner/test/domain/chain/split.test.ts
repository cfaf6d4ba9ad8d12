import { describe, expect, it } from 'vitest';
import { planChain, type SourceFile } from '../../../src/domain/chain/index.js';

const options = { engineVersion: '18' };
const plan = (sql: string) => planChain([{ path: 'a.sql', sql }], options);
const sqls = async (sql: string) => (await plan(sql)).steps.map((s) => s.sql);

describe('splitting like psql', () => {
  it('keeps semicolons inside dollar quotes, nested tags, nested comments and strings', async () => {
    expect(
      await sqls(
        "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$ BEGIN RETURN $x$;$x$ || ';'; END; $fn$;\n" +
          '/* outer /* inner; */ still; */ SELECT 1;\n' +
          "SELECT E'it\\'s; ok', 'a''b;', \"a;b\", \"Ünï\" FROM t;",
      ),
    ).toEqual([
      "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$ BEGIN RETURN $x$;$x$ || ';'; END; $fn$",
      'SELECT 1',
      "SELECT E'it\\'s; ok', 'a''b;', \"a;b\", \"Ünï\" FROM t",
    ]);
  });

  it('keeps BEGIN ATOMIC bodies whole, CASE ... END included', async () => {
    const steps = (
      await plan(
        'CREATE OR REPLACE FUNCTION s(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN a END;\n  SELECT 2;\nEND;\nSELECT 3;',
      )
    ).steps;
    expect(steps.map((s) => s.kind)).toEqual(['CreateFunctionStmt', 'SelectStmt']);
    expect(steps[0]?.sql).toMatch(/SELECT 2;\nEND$/);
  });

  it('ignores empty statements and comment-only text, and runs an unterminated last statement', async () => {
    expect(await sqls(';;\n-- only a comment\n/* and another */;\nselect 1 -- no semicolon')).toEqual(['select 1']);
  });

  it('gives each step its file, line, code-point column and byte range', async () => {
    const sql = "select 'é';  select '😀', 2;\n\n  insert into t values (1);";
    const steps = (await plan(sql)).steps;
    const bytes = Buffer.from(sql, 'utf8');
    expect(steps.map((s) => [s.line, s.column])).toEqual([
      [1, 1],
      [1, 14],
      [3, 3],
    ]);
    expect(steps.map((s) => bytes.subarray(s.byteStart, s.byteEnd).toString('utf8'))).toEqual([
      "select 'é';",
      "select '😀', 2;",
      'insert into t values (1);',
    ]);
  });

  it('carries COPY FROM STDIN data up to \\. without lexing it, and to the end of the file without one', async () => {
    const steps = (
      await plan(
        'copy t (a, b) from STDIN with (format csv);\n"x;",\'\n$$,/*\n\\.\nselect 1;\nCOPY t FROM stdin;\na\tb',
      )
    ).steps;
    expect(steps.map((s) => [s.kind, s.copyData])).toEqual([
      ['CopyStmt', '"x;",\'\n$$,/*\n'],
      ['SelectStmt', undefined],
      ['CopyStmt', 'a\tb\n'],
    ]);
  });

  it('tracks the transaction block: BEGIN ... COMMIT, ROLLBACK, AND CHAIN, savepoints, CALL', async () => {
    const steps = (
      await plan(
        "BEGIN; SAVEPOINT a; ROLLBACK TO a; COMMIT; CALL p(); START TRANSACTION; COMMIT AND CHAIN; ROLLBACK; BEGIN; PREPARE TRANSACTION 'x'; BEGIN; select 1",
      )
    ).steps;
    expect(steps.map((s) => s.opensTransaction)).toEqual([
      true,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
  });

  it('treats a procedure that commits as leaving no block open', async () => {
    const steps = (
      await plan(
        'CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$;\nCALL p();',
      )
    ).steps;
    expect(steps.map((s) => [s.kind, s.opensTransaction])).toEqual([
      ['CreateFunctionStmt', false],
      ['CallStmt', false],
    ]);
  });
});

describe('psql variables and \\echo', () => {
  it('substitutes :name raw, :\'name\' as a literal and :"name" as an identifier, leaving :: and unknown names', async () => {
    const sql =
      "\\set t my_table\n\\set v 'it''s' ' \\\\x'\n\\set c Col\nselect :'v', :\"c\", x::int, a[1:nope], ':t' from :t;";
    expect(await sqls(sql)).toEqual([`select  E'it''s \\\\x', "Col", x::int, a[1:nope], ':t' from my_table`]);
  });

  it('lexes raw values again, so a value can hold a semicolon', async () => {
    expect(await sqls("\\set two 'select 1; select 2'\n:two;")).toEqual(['select 1', 'select 2']);
  });

  it('\\unset forgets a variable; substitution applies inside meta-command arguments', async () => {
    const steps = (await plan('\\set who world\n\\echo -n hello :who \'a  b\' "q"\n\\unset who\n\\echo :who')).steps;
    expect(steps.map((s) => [s.kind, s.notice, s.sql])).toEqual([
      ['Echo', 'hello world a  b "q"', ''],
      ['Echo', ':who\n', ''],
    ]);
  });

  it('keeps the key across \\echo', async () => {
    const chain = await plan('select 1;\n\\echo hi\n');
    expect(chain.steps[1]?.key).toBe(chain.steps[0]?.key);
  });
});

describe('includes', () => {
  const files: SourceFile[] = [
    { path: 'main.sql', sql: 'select 0;\n\\i lib/a.sql\n\\ir lib/b.sql\nselect 3;' },
    { path: 'lib/a.sql', sql: 'select 1;\n\\ir b.sql', run: false },
    { path: 'lib/b.sql', sql: '\n  select 2;', run: false },
  ];

  it('inlines \\i (root-relative) and \\ir (relative to the including file) steps with their own paths', async () => {
    const steps = (await planChain(files, options)).steps;
    expect(steps.map((s) => [s.sql, s.path, s.line, s.column])).toEqual([
      ['select 0', 'main.sql', 1, 1],
      ['select 1', 'lib/a.sql', 1, 1],
      ['select 2', 'lib/b.sql', 2, 3],
      ['select 2', 'lib/b.sql', 2, 3],
      ['select 3', 'main.sql', 4, 1],
    ]);
  });

  it('runs files in the order given and skips run:false ones', async () => {
    const steps = (await planChain([...files].reverse(), options)).steps;
    expect(steps.map((s) => s.sql)).toEqual(['select 0', 'select 1', 'select 2', 'select 2', 'select 3']);
  });
});
