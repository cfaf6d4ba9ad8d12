import { describe, expect, it } from 'vitest';
import { ChainError, planChain, type SourceFile } from '../../../src/domain/chain/index.js';

const options = { engineVersion: '18' };

async function failure(files: SourceFile[]): Promise<ChainError> {
  try {
    await planChain(files, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ChainError);
    return error as ChainError;
  }
  throw new Error('planChain did not fail');
}

describe('text PostgreSQL cannot take', () => {
  it('refuses a NUL with its path, line and column, before splitting anything', async () => {
    // Before: the parser and the key stopped at the NUL, so this planned as `SELECT 1` and two texts shared a key.
    const error = await failure([{ path: 'a.sql', sql: "SELECT 0;\nSELECT 'é', 1\u0000 + 1;" }]);
    expect(error.code).toBe('SQL_RUNNER_TEXT_INVALID');
    expect(error.statusCode).toBe(422);
    expect(error.details).toMatchObject({
      sqlstate: '22021',
      path: 'a.sql',
      line: 2,
      column: 14,
      position: 24,
      character: 'U+0000',
    });
    expect(error.message).toBe('line 2, column 14 of a.sql: a NUL character (U+0000) cannot be sent to PostgreSQL');
  });

  it('refuses a NUL in a file that only serves includes, and in COPY data', async () => {
    const included = await failure([
      { path: 'main.sql', sql: 'SELECT 1;' },
      { path: 'lib/x.sql', sql: '\n\n  \u0000', run: false },
    ]);
    expect(included.details).toMatchObject({ path: 'lib/x.sql', line: 3, column: 3 });
    const copy = await failure([{ path: 'd.sql', sql: 'COPY t FROM stdin;\n1\t\u0000\n\\.\n' }]);
    expect(copy.details).toMatchObject({ path: 'd.sql', line: 2, column: 3 });
  });

  it('refuses a NUL spelled by an escape in a \\set value', async () => {
    const error = await failure([{ path: 'a.sql', sql: "\\set z 'a\\000b'\nSELECT :'z';" }]);
    expect(error.code).toBe('SQL_RUNNER_TEXT_INVALID');
    expect(error.details).toMatchObject({ line: 1, column: 8, character: 'U+0000' });
  });

  it.each([
    ['a high surrogate alone', "SELECT '\uD83D';", 'U+D83D', 9],
    ['a low surrogate alone', "SELECT '\uDE00x';", 'U+DE00', 9],
    ['a reversed pair', "SELECT '\uDE00\uD83D';", 'U+DE00', 9],
  ])('refuses %s', async (_, sql, character, column) => {
    const error = await failure([{ path: 'a.sql', sql }]);
    expect(error.details).toMatchObject({ line: 1, column, character });
    expect(error.message).toContain(`an unpaired surrogate (${character}) is not valid text`);
  });

  it('accepts characters outside the BMP, written as surrogate pairs', async () => {
    const chain = await planChain([{ path: 'a.sql', sql: "SELECT '😀';" }], options);
    expect(chain.steps).toHaveLength(1);
  });
});
