import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processSpawner, Spawner } from '../src/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Parent pid of `pid`, from /proc. */
const parentOf = async (pid: number) =>
  Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);

describe('the spawner process', () => {
  const spawner = new Spawner();
  afterAll(() => spawner.close());

  it('is what runCommand uses once kit is built', () => {
    expect(Spawner.available()).toBe(true);
    expect(processSpawner()).toBeInstanceOf(Spawner);
  });

  it('runs a command to its end with its output, exit code and timeout', async () => {
    const ok = await spawner.run({ file: 'sh', args: ['-c', 'echo out; echo err >&2'], timeoutMs: 5000 });
    expect(ok).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    const failed = await spawner.run({ file: 'sh', args: ['-c', 'exit 3'], timeoutMs: 5000 });
    expect(failed.exitCode).toBe(3);
    const slow = await spawner.run({ file: 'sleep', args: ['5'], timeoutMs: 100 });
    expect(slow).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    const fed = await spawner.run({ file: 'cat', args: [], input: 'to stdin', timeoutMs: 5000 });
    expect(fed.stdout).toBe('to stdin');
  });

  it('starts a detached process that is not a child of this one, with stderr to a file, and tells when it exits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-spawner-'));
    try {
      const started = await spawner.start({
        file: 'sh',
        args: ['-c', 'echo started >&2; exec sleep 30'],
        stderrFile: join(dir, 'server.log'),
      });
      expect(alive(started.pid)).toBe(true);
      expect(await parentOf(started.pid)).not.toBe(process.pid);
      let exited = false;
      void started.exited.then(() => {
        exited = true;
      });
      for (let i = 0; i < 100 && !(await readFile(join(dir, 'server.log'), 'utf8')).includes('started'); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await readFile(join(dir, 'server.log'), 'utf8')).toBe('started\n');
      expect(exited).toBe(false);
      process.kill(started.pid, 'SIGTERM');
      await started.exited;
      expect(alive(started.pid)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers a missing executable with an error, and leaves no helper behind when its parent exits', async () => {
    await expect(spawner.start({ file: '/nonexistent/postgres', args: [], stderrFile: '/dev/null' })).rejects.toThrow(
      /ENOENT/,
    );
    const kit = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
    const script = `import { processSpawner, runCommand } from ${kit};
      await runCommand('true', [], { timeoutMs: 5000 });
      console.log(processSpawner().pid);`;
    const dir = await mkdtemp(join(tmpdir(), 'taidon-spawner-'));
    const file = join(dir, 'parent.mjs');
    await writeFile(file, script);
    const helper = Number(execFileSync(process.execPath, [file], { encoding: 'utf8' }));
    await rm(dir, { recursive: true, force: true });
    expect(helper).toBeGreaterThan(0);
    for (let i = 0; i < 200 && alive(helper); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(helper)).toBe(false);
  });
});
