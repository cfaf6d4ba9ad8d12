import { readFile, stat } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTemplate, SANDBOX_DATABASE, SANDBOX_USER } from '../../src/engine/template.js';
import { STARTUP_NICE } from '../../src/runtimes/local.js';
import { processTree, pssBytes } from '../../src/runtimes/proc.js';
import type { Runtime } from '../../src/runtimes/runtime.js';
import { createTestRuntime, TEST_ADMIN_PASSWORD, TEST_SETTINGS } from '../helpers/runtime.js';

const learner = { user: SANDBOX_USER, database: SANDBOX_DATABASE };

/** Whether a new connection answers within `timeoutMs`. */
async function answers(port: number, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...learner, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

// One data directory, made from the template once, shared by both freezers.
let cgroupEnv: Awaited<ReturnType<typeof createTestRuntime>>;
let signalEnv: Awaited<ReturnType<typeof createTestRuntime>>;
let dataDir: string;

beforeAll(async () => {
  cgroupEnv = await createTestRuntime();
  signalEnv = await createTestRuntime({ cgroupRoots: [] });
  dataDir = await cgroupEnv.emptyDataDir('runtime');
  const started = await initTemplate(cgroupEnv.runtime, {
    instanceId: 'runtime-init',
    dataDir,
    adminPassword: TEST_ADMIN_PASSWORD,
    settings: TEST_SETTINGS,
    startTimeoutMs: 30_000,
  });
  await cgroupEnv.runtime.stop('runtime-init', started.pid);
});

afterAll(async () => {
  await cgroupEnv?.cleanup();
  await signalEnv?.cleanup();
});

describe.each([
  ['cgroup-capable', () => cgroupEnv.runtime],
  ['signals-only', () => signalEnv.runtime],
])('local runtime (%s)', (label, runtimeOf: () => Runtime) => {
  it('starts a server on a data directory, ready within tens of ms, and stops it leaving no process', async () => {
    const runtime = runtimeOf();
    const server = await runtime.start({ instanceId: `start-${label}`, dataDir, timeoutMs: 10_000 });
    console.log(`[${label}] ready ${server.readyMs.toFixed(1)} ms after spawn (pid ${server.pid})`);
    expect(await answers(server.port, 1000)).toBe(true);
    const tree = await processTree(server.pid);
    // Started below the normal priority; the postmaster is back at it once ready (the learner's backends are
    // forked from it), and the workers forked before that stay below: the checkpointer and the background writer
    // always are (the WAL writer starts about when the server turns ready, on either side of it).
    const niceOf = async (title: string) => {
      for (const pid of tree) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.startsWith(`postgres: ${title}`)) return getPriority(pid);
      }
      return undefined;
    };
    const priorities = {
      postmaster: getPriority(server.pid),
      checkpointer: await niceOf('checkpointer'),
      bgwriter: await niceOf('background writer'),
    };
    const pss = await pssBytes(tree);
    // Stopped before the checks, so a failed one does not leave the server running for the next test.
    const stopStarted = performance.now();
    await runtime.stop(`start-${label}`, server.pid);
    console.log(`[${label}] stop ${(performance.now() - stopStarted).toFixed(1)} ms`);
    console.log(`[${label}] idle instance: ${tree.length} processes, PSS ${(pss / 1024 / 1024).toFixed(1)} MiB`);
    expect(tree.length).toBeGreaterThan(1);
    if (process.getuid?.() === 0) {
      expect(priorities).toEqual({ postmaster: 0, checkpointer: STARTUP_NICE, bgwriter: STARTUP_NICE });
    }
    for (const pid of tree) expect(gone(pid)).toBe(true);
    expect(runtime.isAlive(server.pid)).toBe(false);
  });

  it('freezes a server so that a new connection hangs, and thaws it so that it answers', async () => {
    const runtime = runtimeOf();
    const id = `freeze-${label}`;
    const server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    try {
      let t = performance.now();
      await runtime.freeze(id, server.pid);
      const freezeMs = performance.now() - t;
      expect(await answers(server.port, 300)).toBe(false);
      t = performance.now();
      await runtime.thaw(id, server.pid);
      const thawMs = performance.now() - t;
      console.log(
        `[${label}] freeze ${freezeMs.toFixed(2)} ms, thaw ${thawMs.toFixed(2)} ms (${runtime.limits.freezer})`,
      );
      expect(await answers(server.port, 2000)).toBe(true);
    } finally {
      await runtime.stop(id, server.pid);
    }
  });

  it('stops a frozen server', async () => {
    const runtime = runtimeOf();
    const id = `stop-frozen-${label}`;
    const server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    await runtime.freeze(id, server.pid);
    await runtime.stop(id, server.pid, 5000);
    expect(gone(server.pid)).toBe(true);
  });

  it('kills a server and all its processes', async () => {
    const runtime = runtimeOf();
    const id = `kill-${label}`;
    const server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    const tree = await processTree(server.pid);
    const started = performance.now();
    await runtime.kill(id, server.pid);
    console.log(`[${label}] kill ${(performance.now() - started).toFixed(1)} ms`);
    // The postmaster is reaped; its children, orphaned at once, may stay zombies until init reaps them.
    expect(gone(server.pid)).toBe(true);
    for (const pid of tree) expect(runtime.isAlive(pid)).toBe(false);
    // Restart after a crash: PostgreSQL recovers and the data dir is usable again. The killed postmaster's lock
    // file still says "ready"; start must wait for the new one's, so the first connection succeeds at once.
    expect((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]).toBe(String(server.pid));
    const again = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    expect(await answers(again.port, 1000)).toBe(true);
    await runtime.stop(id, again.pid);
  });
});

describe('cgroup limits', () => {
  it('writes memory.max, pids.max and cpu.max where cgroup v2 delegates them, or says why not', async () => {
    const runtime = cgroupEnv.runtime;
    if (runtime.limits.controllers.length === 0) {
      console.log(`cgroup limits skipped: ${runtime.limits.reasons.join('; ')}`);
      expect(runtime.limits.reasons.length).toBeGreaterThan(0);
      expect(cgroupEnv.lines().some((l) => l.includes('without some cgroup limits'))).toBe(true);
      return;
    }
    const id = 'limits';
    const server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    try {
      const cgroup = join(runtime.limits.cgroupParent as string, id);
      if (runtime.limits.controllers.includes('memory')) {
        expect((await readFile(join(cgroup, 'memory.max'), 'utf8')).trim()).toBe(String(256 * 1024 * 1024));
      }
      const procs = (await readFile(join(cgroup, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
      expect(procs).toContain(server.pid);
    } finally {
      await runtime.stop(id, server.pid);
    }
  });

  it('puts the postmaster and its children in the instance cgroup when one can be created', async () => {
    const runtime = cgroupEnv.runtime;
    if (!runtime.limits.cgroupParent) {
      console.log(`no instance cgroup: ${runtime.limits.reasons.join('; ')}`);
      return;
    }
    const id = 'membership';
    const server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    try {
      // The tree first: the postmaster may still fork workers after it says it is ready, and a worker born
      // after cgroup.procs was read would be missing from that older list although it is in the cgroup.
      const tree = await processTree(server.pid);
      const procs = (await readFile(join(runtime.limits.cgroupParent, id, 'cgroup.procs'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map(Number);
      for (const pid of tree) expect(procs).toContain(pid);
    } finally {
      await runtime.stop(id, server.pid);
    }
  });

  it('uses no cgroup for the freezer alone in `limits` mode, and one wherever a limit can be applied', async () => {
    const limitsOnly = await createTestRuntime({ cgroupMode: 'limits' });
    try {
      const { limits } = limitsOnly.runtime;
      if (cgroupEnv.runtime.limits.controllers.length > 0) {
        expect(limits.cgroupParent).toBe(cgroupEnv.runtime.limits.cgroupParent);
      } else {
        expect(limits).toMatchObject({ cgroupParent: undefined, freezer: 'signals' });
        expect(limits.reasons.at(-1)).toBe('no limit to apply: cgroups unused');
      }
    } finally {
      await limitsOnly.cleanup();
    }
  });
});

describe('relation cache init files', () => {
  it('keeps them across a start where asked, and the first connection reads them instead of writing new ones', async () => {
    const runtime = cgroupEnv.runtime;
    const id = 'relcache';
    // A learner's connection writes the sandbox database's init file and the shared one; a clean stop keeps them.
    let server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    const client = new pg.Client({ host: '127.0.0.1', port: server.port, ...learner });
    await client.connect();
    const { rows } = await client.query('SELECT oid FROM pg_database WHERE datname = current_database()');
    await client.end();
    await runtime.stop(id, server.pid);
    const files = [
      join(dataDir, 'global', 'pg_internal.init'),
      join(dataDir, 'base', String(rows[0].oid), 'pg_internal.init'),
    ];
    // PostgreSQL writes a file aside and renames it over the old one, which is still there: a new inode.
    const inodes = () =>
      Promise.all(
        files.map((f) =>
          stat(f).then(
            (s) => s.ino,
            () => undefined,
          ),
        ),
      );
    const written = await inodes();
    expect(written.every((ino) => ino !== undefined)).toBe(true);

    for (const relcache of ['keep', 'if-shut-down'] as const) {
      server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000, relcache });
      try {
        expect(await inodes()).toEqual(written);
        expect(await answers(server.port, 1000)).toBe(true);
        expect(await inodes()).toEqual(written);
      } finally {
        await runtime.stop(id, server.pid);
      }
    }

    // After a crash pg_control says the server did not stop cleanly: `if-shut-down` lets PostgreSQL delete them,
    // and the first connection writes them again. Without the option, as PostgreSQL does at every start.
    server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000 });
    expect(await inodes()).toEqual([undefined, undefined]);
    await runtime.kill(id, server.pid);
    server = await runtime.start({ instanceId: id, dataDir, timeoutMs: 10_000, relcache: 'if-shut-down' });
    try {
      expect(await inodes()).toEqual([undefined, undefined]);
      expect(await answers(server.port, 1000)).toBe(true);
      // Written anew (a freed inode number may come back, so only their presence tells).
      expect((await inodes()).every((ino) => ino !== undefined)).toBe(true);
    } finally {
      await runtime.stop(id, server.pid);
    }
  });
});
