import { describe, expect, it } from 'vitest';
import { CommandError, runCommand } from '../src/exec.js';

describe('runCommand', () => {
  it('passes arguments as an array, never through a shell', async () => {
    const { stdout } = await runCommand('printf', ['%s|', 'a b', '$(echo no)', ';rm'], { timeoutMs: 5000 });
    expect(stdout).toBe('a b|$(echo no)|;rm|');
  });

  it('puts the stderr and exit code of a failed command in its error', async () => {
    const error = await runCommand('sh', ['-c', 'echo boom >&2; exit 3'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).exitCode).toBe(3);
    expect((error as CommandError).message).toMatch(/exited with 3: boom/);
  });

  it('kills a command that outlives its timeout', async () => {
    const started = Date.now();
    const error = await runCommand('sleep', ['10'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((error as CommandError).timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('kills a command that prints more than maxOutputBytes, and says so', async () => {
    const started = Date.now();
    const error = await runCommand('yes', [], { timeoutMs: 10_000, maxOutputBytes: 64 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    expect([(error as CommandError).outputExceeded, (error as CommandError).timedOut]).toEqual([true, false]);
    expect(Date.now() - started).toBeLessThan(5000);
    const { stdout } = await runCommand('printf', ['short'], { timeoutMs: 5000, maxOutputBytes: 5 });
    expect(stdout).toBe('short');
  });

  it('reports a missing executable as a CommandError', async () => {
    const error = await runCommand('/nonexistent/tool', [], { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/ENOENT/);
  });
});
