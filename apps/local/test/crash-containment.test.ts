import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@taidon/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { type LaunchedPlatform, launchPlatform } from './launch.js';

// `npm start` as a real process, killed as a crash or an operator would kill it: issue 20's crash containment
// (ADR 0024). Sandbox servers are counted as real processes, by the data directory on their command line.

const started: LaunchedPlatform[] = [];

/** Starts `npm start`'s entry point on `dataDir`, without waiting for it. */
async function launch(dataDir: string, env: Record<string, string> = {}): Promise<LaunchedPlatform> {
  const platform = await launchPlatform(dataDir, env);
  started.push(platform);
  return platform;
}

async function startPlatform(dataDir: string, env: Record<string, string> = {}) {
  const platform = await launch(dataDir, env);
  return { ...platform, url: await platform.up };
}

/** PostgreSQL servers (postmasters: `postgres -D <dir>`) running on a data directory under `root`. */
async function serversUnder(root: string): Promise<{ pid: number; dataDir: string }[]> {
  const found: { pid: number; dataDir: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // A zombie (exited, not yet reaped) has an empty command line: it runs nothing.
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const dataDir = argv[argv.indexOf('-D') + 1];
    if (argv[0]?.endsWith('/postgres') && argv.includes('-D') && dataDir?.startsWith(`${root}/`)) {
      found.push({ pid: Number(entry), dataDir });
    }
  }
  return found;
}

const sandboxes = async (root: string) =>
  (await serversUnder(root)).filter((s) => !s.dataDir.startsWith(join(root, 'control-plane')));

const mounted = async (dir: string) => (await readFile('/proc/mounts', 'utf8')).includes(` ${dir}/`);

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const begin = performance.now();
  while (!(await check())) {
    if (performance.now() - begin > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - begin;
}

async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/api/auth/anonymous`, { method: 'POST' });
  expect(response.status).toBe(201);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

type RunEvent = Record<string, any>;

async function run(url: string, token: string, body: unknown): Promise<RunEvent[]> {
  const response = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const rowsOf = (events: RunEvent[]) => events.find((e) => e.type === 'rows')?.rows;

describe('crash containment of npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    // A failed test may leave a platform running: killed, its servers stop with it (or are killed here).
    for (const platform of started) platform.child.kill('SIGKILL');
    for (const dir of dirs) {
      await until(async () => (await serversUnder(dir)).length === 0, 15_000, 'servers stopped').catch(() => {});
      for (const server of await serversUnder(dir)) process.kill(server.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      if (await mounted(dir)) await runCommand('umount', [join(dir, 'layers')], { timeoutMs: 30_000 }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kill -9 mid-load leaves no server running, and the next start continues every session with its data', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taidon-crash-'));
    dirs.push(dataDir);
    const first = await startPlatform(dataDir);

    // Learners with data only their instance has: random() would give another value on a replay.
    const learners = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const token = await signIn(first.url);
        const made = await run(first.url, token, { head: 'CREATE TABLE t AS SELECT random() AS r;' });
        expect(made.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });
        const sessionId = made[0]?.sessionId as string;
        const read = await run(first.url, token, { sessionId, head: 'SELECT r FROM t' });
        return { token, sessionId, rows: rowsOf(read) };
      }),
    );
    // Mid-load: every learner's next run in flight, and new learners' first runs creating instances.
    const inFlight = [
      ...learners.map((l) => run(first.url, l.token, { sessionId: l.sessionId, head: 'SELECT pg_sleep(5)' })),
      ...Array.from({ length: 3 }, async () => run(first.url, await signIn(first.url), { head: 'SELECT 1' })),
    ].map((p) => p.catch(() => []));
    await new Promise((r) => setTimeout(r, 400));
    const atKill = await sandboxes(dataDir);
    expect(atKill.length).toBeGreaterThanOrEqual(learners.length);

    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(inFlight);
    const stopMs = await until(async () => (await serversUnder(dataDir)).length === 0, 15_000, 'servers stopped');
    console.log(`kill -9 with ${atKill.length} sandbox servers running: none left after ${stopMs.toFixed(0)} ms`);

    const second = await startPlatform(dataDir);
    try {
      for (const learner of learners) {
        const begin = performance.now();
        const events = await run(second.url, learner.token, { sessionId: learner.sessionId, head: 'SELECT r FROM t' });
        console.log(`a learner's first run after the restart: ${(performance.now() - begin).toFixed(0)} ms`);
        expect(rowsOf(events)).toEqual(learner.rows);
        expect(events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok', source: 'session', stepsReplayed: 0 });
      }
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited, second.output()).toBe(0);
    }
    // The layer store the killed run had mounted is unmounted by the start that found it.
    expect(await serversUnder(dataDir)).toEqual([]);
    expect(await mounted(dataDir)).toBe(false);
  }, 120_000);

  it('SIGTERM during start leaves no server running and nothing mounted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taidon-term-'));
    dirs.push(dataDir);
    const platform = await launch(dataDir);
    // The control plane is up; the layer store, the services and their servers are still to come.
    await until(async () => (await serversUnder(dataDir)).length > 0, 30_000, 'control plane started');
    platform.child.kill('SIGTERM');
    expect(await platform.exited, platform.output()).toBe(0);
    expect(await serversUnder(dataDir)).toEqual([]);
    expect(await mounted(dataDir)).toBe(false);
    expect(platform.output()).not.toContain('Taidon is up');
  }, 90_000);

  it('SIGTERM while the warm pool fills leaves no server running and nothing mounted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taidon-term-'));
    dirs.push(dataDir);
    const platform = await startPlatform(dataDir, { RUN_WARM_POOL_EMPTY: '10', INSTANCE_START_CONCURRENCY: '2' });
    // The empty state's layer is built first, then its pool is filled one instance at a time.
    await until(async () => (await sandboxes(dataDir)).length >= 2, 30_000, 'warm pool filling');
    const filling = (await sandboxes(dataDir)).length;
    platform.child.kill('SIGTERM');
    expect(await platform.exited, platform.output()).toBe(0);
    // Counted as the process exits: a server the close had missed would still be running here.
    expect(await serversUnder(dataDir)).toEqual([]);
    expect(await mounted(dataDir)).toBe(false);
    console.log(`SIGTERM with ${filling} sandbox servers up while the pool filled: none left at exit`);
  }, 90_000);
});
