import { describe, expect, it } from 'vitest';
import {
  ChainError,
  DEFAULT_PLAN_LIMITS,
  type PlanLimits,
  planChain,
  type SourceFile,
} from '../../../src/domain/chain/index.js';
import { fanOutBomb, setDoubling } from './hostile.js';

const options = { engineVersion: '18' };

async function failure(files: SourceFile[], limits: Partial<PlanLimits> = {}): Promise<ChainError> {
  const started = performance.now();
  try {
    await planChain(files, options, { ...DEFAULT_PLAN_LIMITS, ...limits });
  } catch (error) {
    expect(error).toBeInstanceOf(ChainError);
    // Checked while expanding: every case here stops long before the work it asked for.
    expect(performance.now() - started).toBeLessThan(10_000);
    return error as ChainError;
  }
  throw new Error('planChain did not fail');
}

const file = (sql: string, path = 'a.sql'): SourceFile[] => [{ path, sql }];

describe('steps', () => {
  it('plans 16,000 statements with the default limits', async () => {
    const chain = await planChain(file('SELECT 1;\n'.repeat(16_000)), options);
    expect(chain.steps).toHaveLength(16_000);
  });

  it('refuses the statement past the limit, naming the limit and its value', async () => {
    const error = await failure(file('SELECT 1;\n'.repeat(1_001)), { maxSteps: 1_000 });
    expect(error.code).toBe('SQL_RUNNER_PLAN_LIMIT_EXCEEDED');
    expect(error.statusCode).toBe(422);
    expect(error.details).toMatchObject({ limit: 'steps', max: 1_000, sqlstate: '54000', path: 'a.sql', line: 1_001 });
    expect(error.message).toBe('line 1001 of a.sql: the chain has more than 1000 steps');
  });

  it('stops a 10 MB text of SELECT 1; at the default limit', async () => {
    const error = await failure(file('SELECT 1;'.repeat(1_200_000)));
    expect(error.details).toMatchObject({ limit: 'steps', max: DEFAULT_PLAN_LIMITS.maxSteps, line: 1 });
    expect(error.details.column).toBe(DEFAULT_PLAN_LIMITS.maxSteps * 9 + 1);
  });

  it('counts \\echo as a step', async () => {
    const error = await failure(file('\\echo a\n'.repeat(11)), { maxSteps: 10 });
    expect(error.details).toMatchObject({ limit: 'steps', line: 11 });
  });
});

describe('includes', () => {
  it.each([
    ['\\i', false],
    ['\\ir', true],
  ])(
    'stops the 7-file fan-out bomb of %s at the include limit, on the include that crossed it',
    async (_, relative) => {
      const error = await failure(fanOutBomb(7, 10, relative));
      expect(error.code).toBe('SQL_RUNNER_PLAN_LIMIT_EXCEEDED');
      expect(error.details).toMatchObject({ limit: 'includes', max: 10_000 });
      expect(error.details.path).toMatch(/^(dir\/)?f[1-6]\.sql$/);
      expect(error.message).toMatch(/^line \d+ of \S+: the chain follows more than 10000 includes/);
    },
  );

  it('stops a file that includes itself twice at the depth limit on its first descent', async () => {
    // Includes are followed depth first, so the cycle is caught after 16 includes, never 2^16.
    const error = await failure(file('SELECT 1;\n\\i a.sql\n\\i a.sql\n'));
    expect(error.code).toBe('SQL_RUNNER_INCLUDE_TOO_DEEP');
    expect(error.details).toMatchObject({ limit: 'includeDepth', max: 16, path: 'a.sql', line: 2 });
  });

  it('reports a file that includes itself once as too deep, with the depth limit', async () => {
    const error = await failure(file('SELECT 1;\n\\ir a.sql\n'), { maxIncludeDepth: 5 });
    expect(error.code).toBe('SQL_RUNNER_INCLUDE_TOO_DEEP');
    expect(error.details).toMatchObject({ limit: 'includeDepth', max: 5, line: 2 });
  });

  it('counts every character of an included file each time it is included', async () => {
    const files = [
      { path: 'main.sql', sql: '\\i big.sql\n\\i big.sql\n\\i big.sql\n' },
      { path: 'big.sql', sql: `SELECT '${'x'.repeat(4_000)}';\n`, run: false },
    ];
    const error = await failure(files, { maxChars: 10_000 });
    expect(error.details).toMatchObject({ limit: 'chars', max: 10_000, path: 'main.sql', line: 3 });
  });
});

describe('variables', () => {
  it.each([13, 15])('refuses \\set a :a:a:a:a repeated %i times at the first value past the limit', async (times) => {
    const error = await failure(file(setDoubling(times)));
    expect(error.code).toBe('SQL_RUNNER_PLAN_LIMIT_EXCEEDED');
    // 'x' is 1 character, then 4, 16, …: the 11th doubling gives 4^11 = 4 Mi > 1 Mi.
    expect(error.details).toMatchObject({ limit: 'variableChars', max: 1024 * 1024, line: 12 });
    expect(error.message).toContain('"a" would be 4194304 characters');
  });

  it('counts values substituted into statements, through nested raw variables', async () => {
    // Quoted values keep their references; psql lexes a raw value again, so :v0 is 4^12 copies of 'x'.
    const sets = Array.from({ length: 12 }, (_, i) => `\\set v${i} ':v${i + 1}:v${i + 1}:v${i + 1}:v${i + 1}'`);
    const error = await failure(file(`\\set v12 x\n${sets.join('\n')}\nSELECT :v0;\n`), { maxChars: 1_000_000 });
    expect(error.details).toMatchObject({ limit: 'chars', max: 1_000_000, line: 14, column: 8 });
  });

  it('counts raw values lexed again inside a statement', async () => {
    const error = await failure(
      file("\\set b 'SELECT 1'\n\\set a ':b:b:b:b:b:b:b:b:b:b'\nSELECT :a :a :a :a :a :a :a :a;\n"),
      { maxChars: 300 },
    );
    expect(error.details).toMatchObject({ limit: 'chars', max: 300, line: 3 });
  });

  it('counts values substituted into meta-command arguments', async () => {
    const error = await failure(file(`\\set a ${'y'.repeat(1_000)}\n\\echo ${':a '.repeat(20)}\n`), {
      maxChars: 10_000,
    });
    expect(error.details).toMatchObject({ limit: 'chars', line: 2 });
  });
});
