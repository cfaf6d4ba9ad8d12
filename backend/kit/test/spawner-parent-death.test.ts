import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setprivPath } from '../src/index.js';

/** Running, not a zombie: a process killed or exited stays in /proc until init reaps it, which may take a second. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taidon-pdeath-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A parent process (built kit, as a service runs it) that starts, through its spawner, a program that records
 * the signal it gets; prints `<spawner pid> <program pid>`.
 */
async function startParent(
  name: string,
): Promise<{ parent: ChildProcess; spawnerPid: number; pid: number; log: string }> {
  const kit = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
  const log = join(dir, `${name}.log`);
  const program = `trap 'echo INT >> ${log}; exit 0' INT; echo started >> ${log}; while :; do sleep 0.02; done`;
  const script = join(dir, `${name}.mjs`);
  await writeFile(
    script,
    `import { processSpawner } from ${kit};
     const spawner = processSpawner();
     const started = await spawner.start({ file: 'sh', args: ['-c', ${JSON.stringify(program)}],
       stderrFile: '/dev/null', parentDeathSignal: 'SIGINT' });
     console.log(spawner.pid + ' ' + started.pid);
     setInterval(() => {}, 1000);`,
  );
  const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => parent.stdout?.once('data', (c: Buffer) => resolve(String(c))));
  const [spawnerPid, pid] = line.trim().split(' ').map(Number) as [number, number];
  await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('started'), 5000);
  return { parent, spawnerPid, pid, log };
}

describe('a process started with a parent-death signal', () => {
  it('gets it when the service that started it is killed with -9', async () => {
    const { parent, pid, log } = await startParent('parent-killed');
    expect(running(pid)).toBe(true);
    parent.kill('SIGKILL');
    const ms = await until(() => !running(pid), 5000);
    console.log(`program gone ${ms.toFixed(0)} ms after kill -9 of its service`);
    expect(await readFile(log, 'utf8')).toBe('started\nINT\n');
  });

  it.skipIf(!setprivPath())('gets it from the kernel when the spawner itself is killed with -9', async () => {
    const { parent, spawnerPid, pid, log } = await startParent('spawner-killed');
    try {
      process.kill(spawnerPid, 'SIGKILL');
      await until(() => !running(pid), 5000);
      expect(await readFile(log, 'utf8')).toBe('started\nINT\n');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
