import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@taidon/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { serversUnder } from '../src/launcher/processes.js';
import { launchPlatform } from './launch.js';

// `npm start`'s entry as a real process: one Node process per service (each its own dist/server.js, found in
// /proc as the launcher's children), a `kill -9` of one followed by its restart, and a SIGTERM that leaves
// nothing behind (issue 22, ADR 0025).

const _ENTRY = fileURLToPath(new URL('../dist/all-in-one.js', import.meta.url));
const SERVICES = [
  'audit-log',
  'user-profile',
  'idp',
  'snapshot-cache',
  'env-manager',
  'sql-runner',
  'vcs-sync',
  'exercises',
  'gateway',
];

/** The launcher's children that run a service's dist/server.js, by service. */
async function serviceChildren(launcherPid: number): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (in parentheses, which may hold spaces): state, then the parent's pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== launcherPid) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const server = argv.find((arg) => arg.endsWith('/dist/server.js'));
    const name = server?.split('/').at(-3);
    if (name) found.set(name, [...(found.get(name) ?? []), Number(entry)]);
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const begin = performance.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() - begin > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type RunEvent = Record<string, any>;

async function run(url: string, token: string, body: unknown): Promise<{ status: number; events: RunEvent[] }> {
  const response = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('application/x-ndjson'))
    return { status: response.status, events: [] };
  return {
    status: response.status,
    events: text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line)),
  };
}

describe('npm start runs each service as its own process', () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;
  let output = () => '';

  afterAll(async () => {
    // A failed test may leave the platform running: killed, its children and servers stop with it.
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (!dataDir) return;
    const dir = dataDir;
    await until(async () => ((await serversUnder(dir)).length === 0 ? true : undefined), 15_000, 'servers').catch(
      () => {},
    );
    if ((await readFile('/proc/mounts', 'utf8')).includes(` ${dir}/layers `)) {
      await runCommand('umount', [join(dir, 'layers')], { timeoutMs: 30_000 }).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('one process per service; a kill -9 of sql-runner or env-manager is followed by its restart and the session continues with its data; SIGHUP leaves nothing', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taidon-procs-'));
    await chmod(dataDir, 0o711);
    const launched = await launchPlatform(dataDir, {}, 90_000);
    const launcher = launched.child;
    child = launcher;
    const exited = launched.exited;
    output = launched.output;
    const url = await launched.up;
    const pid = launcher.pid as number;

    // One process per service, each its own dist/server.js, children of the launcher.
    const children = await serviceChildren(pid);
    expect(Object.fromEntries([...children].map(([name, pids]) => [name, pids.length]))).toEqual(
      Object.fromEntries(SERVICES.map((name) => [name, 1])),
    );
    // Every line a child printed names its service.
    const lines = output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line).service, line).toEqual(expect.any(String));

    // A learner with data only their instance has (random() would give another value on a replay).
    const signIn = await fetch(`${url}/api/auth/anonymous`, { method: 'POST' });
    const { accessToken: token } = (await signIn.json()) as { accessToken: string };
    const made = await run(url, token, { head: 'CREATE TABLE t AS SELECT random() AS r;' });
    expect(made.events.at(-1), output()).toMatchObject({ type: 'done', outcome: 'ok' });
    const sessionId = made.events[0]?.sessionId as string;
    const before = await run(url, token, { sessionId, head: 'SELECT r FROM t' });
    const rows = before.events.find((e) => e.type === 'rows')?.rows;
    expect(rows).toHaveLength(1);

    const [runner] = children.get('sql-runner') ?? [];
    process.kill(runner as number, 'SIGKILL');
    const killedAt = performance.now();
    await until(async () => (alive(runner as number) ? undefined : true), 5000, 'sql-runner gone');
    const after = await until(
      async () => {
        const answer = await run(url, token, { sessionId, head: 'SELECT r FROM t' }).catch(() => undefined);
        return answer?.events.at(-1)?.type === 'done' ? answer : undefined;
      },
      30_000,
      'a run answered after the kill',
    );
    const answeredMs = performance.now() - killedAt;
    console.log(`kill -9 of sql-runner: a run answered again after ${answeredMs.toFixed(0)} ms`);
    expect(after.events.find((e) => e.type === 'rows')?.rows).toEqual(rows);
    expect(after.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok', source: 'session', stepsReplayed: 0 });
    const restarted = (await serviceChildren(pid)).get('sql-runner') ?? [];
    expect(restarted).toHaveLength(1);
    expect(restarted[0]).not.toBe(runner);
    expect(output()).toContain('service exited; restarting it');

    // A kill -9 of env-manager: its sandbox servers stop with its spawner (ADR 0024), the restarted env-manager
    // takes their instances over, and the learner's next run resumes the instance from its volume, with its data.
    const layers = join(dataDir, 'layers');
    expect((await serversUnder(layers)).length).toBeGreaterThan(0);
    const [manager] = (await serviceChildren(pid)).get('env-manager') ?? [];
    process.kill(manager as number, 'SIGKILL');
    const managerKilledAt = performance.now();
    await until(async () => ((await serversUnder(layers)).length === 0 ? true : undefined), 15_000, 'sandboxes gone');
    const resumed = await until(
      async () => {
        const answer = await run(url, token, { sessionId, head: 'SELECT r FROM t' }).catch(() => undefined);
        return answer?.events.at(-1)?.outcome === 'ok' ? answer : undefined;
      },
      60_000,
      'a run answered after the kill of env-manager',
    );
    console.log(
      `kill -9 of env-manager: the session answered again after ${(performance.now() - managerKilledAt).toFixed(0)} ms`,
    );
    expect(resumed.events.find((e) => e.type === 'rows')?.rows).toEqual(rows);
    expect(resumed.events.at(-1)).toMatchObject({ source: 'session', stepsReplayed: 0 });
    expect((await serviceChildren(pid)).get('env-manager')).toHaveLength(1);

    // SIGHUP (the terminal closed; all-in-one.test.ts sends SIGTERM, which takes the same path): every child
    // stops, then the sandbox servers, the layer store and the control plane.
    const pids = [...(await serviceChildren(pid)).values()].flat();
    launcher.kill('SIGHUP');
    expect(await exited, output()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(await serversUnder(dataDir)).toEqual([]);
    expect((await readFile('/proc/mounts', 'utf8')).includes(` ${dataDir}/`)).toBe(false);
  }, 180_000);
});

describe('a signal while npm start is still starting', () => {
  let dataDir: string | undefined;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stops at once, not when the service it waits for is ready, and leaves nothing', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taidon-stop-early-'));
    await chmod(dataDir, 0o711);
    // Every service's process waits 60 s before its own code runs (a module imported first, awaiting a timer):
    // a start that waited for the first service to be ready would take a minute to notice the signal.
    const stall = Buffer.from('await new Promise((resolve) => setTimeout(resolve, 60000));').toString('base64');
    const launched = await launchPlatform(dataDir, {
      SERVICE_NODE_ARGS: `--import=data:text/javascript;base64,${stall}`,
    });
    child = launched.child;
    const pid = launched.child.pid as number;
    const [first] = await until(
      async () => (await serviceChildren(pid)).get('audit-log'),
      60_000,
      'the first service started',
    );
    const signalled = performance.now();
    launched.child.kill('SIGTERM');
    expect(await launched.exited, launched.output()).toBe(0);
    const tookMs = performance.now() - signalled;
    // Generous for a loaded machine; the point is well under the service's 60 s stall.
    expect(tookMs, launched.output()).toBeLessThan(20_000);
    expect(alive(first as number)).toBe(false);
    expect(await serversUnder(dataDir)).toEqual([]);
    expect(launched.output()).not.toContain('start failed');
  }, 120_000);
});
