import { describe, expect, it } from 'vitest';
import { CHAIN_ERROR_CODES, ChainError, planChain, type SourceFile } from '../../../src/domain/chain/index.js';

const options = { engineVersion: '18' };

async function failure(files: SourceFile[] | string): Promise<ChainError> {
  const list = typeof files === 'string' ? [{ path: 'a.sql', sql: files }] : files;
  try {
    await planChain(list, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ChainError);
    return error as ChainError;
  }
  throw new Error('planChain did not fail');
}

describe('syntax errors', () => {
  const cases: Array<[string, string, { line: number; column: number; position: number }]> = [
    ['at the first token', 'selec 1;', { line: 1, column: 1, position: 1 }],
    ['after non-ASCII text on the same line', "select 'Ünï😀' frm t;", { line: 1, column: 19, position: 19 }],
    [
      'on a later line, in a later statement',
      "select 1;\n-- é\nselect 'é',\n  2 3;",
      { line: 4, column: 5, position: 32 },
    ],
    ['at the end of an unterminated statement', 'select 1;\nselect (1 +', { line: 2, column: 12, position: 22 }],
    ['inside a semicolon-terminated paren', 'select (1;\n2);', { line: 1, column: 10, position: 10 }],
  ];
  for (const [name, sql, where] of cases) {
    it(`points at the offending token ${name}`, async () => {
      const error = await failure(sql);
      expect(error.code).toBe('SQL_RUNNER_SYNTAX_ERROR');
      expect(error.statusCode).toBe(422);
      expect(error.details).toMatchObject({ sqlstate: '42601', path: 'a.sql', ...where });
      expect(error.details.message).toMatch(/syntax error/);
    });
  }

  it('points into an included file', async () => {
    const error = await failure([
      { path: 'main.sql', sql: 'select 1;\n\\i sub/x.sql' },
      { path: 'sub/x.sql', sql: 'select 1;\n\n  update t sett a = 1;', run: false },
    ]);
    expect(error.details).toMatchObject({ path: 'sub/x.sql', line: 3, column: 17 });
  });

  it('maps a position inside a substituted value back to the :var reference', async () => {
    const error = await failure("\\set bad 'frm t'\nselect   1 :bad;");
    expect(error.details).toMatchObject({ line: 2, column: 12 });
  });

  it('reports an error in a later file before anything else', async () => {
    const error = await failure([
      { path: 'a.sql', sql: 'create table t (a int);' },
      { path: 'b.sql', sql: 'insert into t values (1;' },
    ]);
    expect(error.details).toMatchObject({ path: 'b.sql', line: 1, column: 24 });
  });
});

describe('meta-commands', () => {
  it.each([
    ['\\copy t from x.csv', '\\copy'],
    ['\\connect other', '\\connect'],
    ['select 1 \\gset', '\\gset'],
    ['\\! rm -rf /', '\\!'],
    ['\\x', '\\x'],
    ['\\d t', '\\d'],
    ['\\.', '\\.'],
  ])('rejects %s naming the command and its line', async (command, name) => {
    const error = await failure(`select 1;\n\n${command}\n`);
    expect(error.code).toBe('SQL_RUNNER_META_COMMAND_UNSUPPORTED');
    expect(error.message).toContain(`${name} on line 3`);
    expect(error.details).toMatchObject({ sqlstate: '0A000', path: 'a.sql', line: 3 });
  });

  it('rejects backquoted \\set values, which run shell commands', async () => {
    const error = await failure('\\set x `id`');
    expect(error.code).toBe('SQL_RUNNER_META_COMMAND_UNSUPPORTED');
  });

  it.each([
    ['\\\\', 1],
    ['select 1;\n\\\\ select 2;', 2],
  ])("names psql's \\\\ separator in %j, and no class name", async (sql, line) => {
    const error = await failure(sql);
    expect(error.code).toBe('SQL_RUNNER_META_COMMAND_UNSUPPORTED');
    expect(error.message).toBe(`psql's \\\\ separator on line ${line} is not supported`);
    expect(error.details).toMatchObject({ sqlstate: '0A000', line, column: 1, command: '\\' });
  });

  it("rejects psql's \\\\ separator and meta-commands inside an unfinished statement", async () => {
    expect((await failure('\\echo a \\\\ select 1;')).code).toBe('SQL_RUNNER_META_COMMAND_INVALID');
    expect((await failure('select 1\n\\echo a\n;')).code).toBe('SQL_RUNNER_META_COMMAND_INVALID');
  });

  it('accepts \\restrict/\\unrestrict and refuses other meta-commands between them', async () => {
    await expect(
      planChain([{ path: 'a.sql', sql: '\\restrict k\nselect 1;\n\\unrestrict k\n\\echo ok' }], options),
    ).resolves.toBeDefined();
    const error = await failure('\\restrict k\n\\echo no\n\\unrestrict k');
    expect(error.code).toBe('SQL_RUNNER_META_COMMAND_INVALID');
    expect(error.details).toMatchObject({ line: 2 });
  });
});

describe('includes', () => {
  const include = (line: string, extra: SourceFile[] = []) => [
    { path: 'dir/main.sql', sql: `select 1;\n${line}` },
    ...extra,
  ];

  it.each([
    ['\\i /etc/passwd', 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT', '42501'],
    ['\\i ../secret.sql', 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT', '42501'],
    ['\\ir ../../x.sql', 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT', '42501'],
    ['\\i ~/x.sql', 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT', '42501'],
    ['\\i missing.sql', 'SQL_RUNNER_INCLUDE_NOT_FOUND', '58P01'],
    ['\\ir main.sql', 'SQL_RUNNER_INCLUDE_TOO_DEEP', '54001'],
  ])('refuses %s', async (line, code, sqlstate) => {
    const error = await failure(include(line));
    expect(error.code).toBe(code);
    expect(error.details).toMatchObject({ sqlstate, path: 'dir/main.sql', line: 2 });
  });

  it('allows ".." that stays inside the project', async () => {
    const chain = await planChain(
      include('\\ir ../lib/x.sql', [{ path: 'lib/x.sql', sql: 'select 2;', run: false }]),
      options,
    );
    expect(chain.steps.map((s) => s.path)).toEqual(['dir/main.sql', 'lib/x.sql']);
  });
});

describe('CHAIN_ERROR_CODES', () => {
  it('lists each code once with its SQLSTATE and meaning', () => {
    const codes = CHAIN_ERROR_CODES.map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const entry of CHAIN_ERROR_CODES) {
      expect(entry.code).toMatch(/^SQL_RUNNER_[A-Z_]+$/);
      expect(entry.sqlstate).toMatch(/^[0-9A-Z]{5}$/);
      expect(entry.meaning.length).toBeGreaterThan(10);
    }
  });
});
