// Helpers of bench/load.js: the platform as `npm start` runs it, in a CHILD
// process (apps/local/dist/all-in-one.js) so the load generator does not
// share an event loop with it, on a control-plane PostgreSQL this process
// starts (max_connections 300) and hands over as DATABASE_URL; memory
// sampling of every process that belongs to the run; the teardown checks.
// Plain ESM; run after `npm run build`.
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, startPostgresServer } from '../../backend/kit/dist/index.js';
import { platformProcesses } from './platform-cpu.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

/** This process and its ancestors (a `timeout` or `npm` wrapping it is not another benchmark). */
async function ownLineage() {
  const pids = new Set([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/**
 * Other benchmark processes (bench/*.js) than this one, as `ps` lines. Only a node process counts: a
 * `flock … node bench/x.js` (or `timeout …`) still waiting for the shared lock is not running a benchmark, and
 * waiting for it while holding the lock would wait for good.
 */
export async function otherBenchmarks() {
  const mine = await ownLineage();
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+\s+(\S*\/)?node\s+(\S*\/)?bench\/\S+\.js/.test(l))
    .filter((l) => !mine.has(Number(l.split(/\s+/)[0])));
}

/** Waits (polling every 30 s) until no other benchmark runs, at most `maxMs`; true when none is left. */
export async function waitForOtherBenchmarks(maxMs, log) {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const others = await otherBenchmarks();
    if (others.length === 0) return true;
    if (Date.now() > deadline) return false;
    log(`another benchmark is running, waiting (polling every 30 s): ${others.join(' | ')}`);
    await sleep(30_000);
  }
}

/** Bytes in use on the machine: MemTotal − MemAvailable. */
export async function systemUsedBytes() {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return kb('MemTotal') - kb('MemAvailable');
}

/** Pids of processes whose working directory is under `root` (every postgres of the run: it chdirs to its data dir). */
async function pidsUnder(root) {
  const pids = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await readlink(`/proc/${name}/cwd`)).startsWith(root)) pids.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

async function pssBytes(pid) {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Sum of PSS of `pids` plus every process under `root`, with how many processes that was. */
export async function pssOfRun(root, pids) {
  const all = [...new Set([...pids, ...(await pidsUnder(root))])];
  let total = 0;
  for (let i = 0; i < all.length; i += 64) {
    const part = await Promise.all(all.slice(i, i + 64).map(pssBytes));
    for (const b of part) total += b;
  }
  return { bytes: total, processes: all.length };
}

/** `postgres` processes under `root`, and mounts under it, for the final check. */
export async function leftovers(root) {
  const processes = [];
  for (const pid of await pidsUnder(root)) {
    try {
      processes.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim()}`);
    } catch {}
  }
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.split(' ')[1]?.startsWith(root));
  return { processes, mounts };
}

/**
 * Starts the control plane here and the platform as a child process. `env`
 * is added to the child's environment (the services read their own
 * variables there). Resolves once the gateway answers.
 */
export async function startPlatform({ env, log }) {
  const root = await mkdtemp(join(tmpdir(), 'taidon-bench-load-'));
  await chmod(root, 0o711);
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { mode: 0o711 });
  await chmod(dataDir, 0o711);
  const controlPlane = await startPostgresServer({
    rootDir: join(root, 'control-plane'),
    settings: { max_connections: '300' },
  });
  const superuser = new pg.Client({ connectionString: controlPlane.url });
  await superuser.connect();
  await superuser.query('CREATE DATABASE taidon');
  await superuser.end();
  const taidonUrl = new URL(controlPlane.url);
  taidonUrl.pathname = '/taidon';

  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...(process.env.PLATFORM_NODE_ARGS ?? '').split(' ').filter(Boolean), join(REPO, 'apps/local/dist/all-in-one.js')],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        TAIDON_DATA_DIR: dataDir,
        DATABASE_URL: taidonUrl.toString(),
        ...env,
      },
    },
  );
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;

  const admin = new pg.Client({ connectionString: taidonUrl.toString() });
  admin.on('error', () => {});

  const stopControlPlane = async () => {
    await admin.end().catch(() => {});
    await controlPlane.stop();
  };

  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the platform exited during start:\n${output.slice(-4000)}`);
      }
      if (/Taidon is up/.test(output)) break;
      if (Date.now() > deadline) throw new Error(`the platform did not start in 120 s:\n${output.slice(-4000)}`);
      await sleep(50);
    }
    await admin.connect();
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await stopControlPlane().catch(() => {});
    await rm(root, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  log(`platform up at ${url} (pid ${child.pid}, data ${dataDir})`);

  return {
    root,
    url,
    pid: child.pid,
    /** The child's output (warnings and errors at LOG_LEVEL warn). */
    output: () => output,
    admin,
    /** Instances by state (live ones; Deleted is history). */
    async instancesByState() {
      const { rows } = await admin.query(
        `SELECT state, pooled, count(*)::int AS n FROM env_manager.instances GROUP BY state, pooled ORDER BY state, pooled`,
      );
      return rows;
    },
    /** Instances that entered Running, per second since `since` (a Date), and transitions by reason. */
    async startsPerSecond(since) {
      const { rows } = await admin.query(
        `SELECT floor(extract(epoch FROM at - $1::timestamptz))::int AS s, count(*)::int AS n
           FROM env_manager.instance_transitions WHERE to_state = 'Running' AND at >= $1 GROUP BY 1 ORDER BY 1`,
        [since],
      );
      return rows;
    },
    async transitions(since) {
      const { rows } = await admin.query(
        `SELECT coalesce(from_state, '-') || '→' || to_state AS edge, reason, count(*)::int AS n
           FROM env_manager.instance_transitions WHERE at >= $1 GROUP BY 1, 2 ORDER BY 3 DESC`,
        [since],
      );
      return rows;
    },
    /**
     * SIGTERM to the platform, wait for its exit (up to `timeoutMs`), stop the
     * control plane, then look for what is left under the run's directory.
     */
    async stop(timeoutMs = 180_000) {
      const started = Date.now();
      let result;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let timeout;
        const timer = new Promise((resolve) => {
          timeout = setTimeout(() => resolve(undefined), timeoutMs);
        });
        result = await Promise.race([exited, timer]);
        clearTimeout(timeout);
        if (!result) {
          child.kill('SIGKILL');
          result = { ...(await exited), timedOut: true };
        }
      } else {
        result = await exited;
      }
      const platformStopMs = Date.now() - started;
      await stopControlPlane().catch((e) => log(`control plane stop: ${e.message}`));
      // Give orphans a moment to go, then look.
      let left = await leftovers(root);
      for (let i = 0; i < 20 && (left.processes.length || left.mounts.length); i++) {
        await sleep(250);
        left = await leftovers(root);
      }
      return { exit: result, platformStopMs, left };
    },
    /** Removes the run's directory when nothing is mounted there. */
    async removeRoot() {
      const { mounts } = await leftovers(root);
      if (mounts.length === 0) await rm(root, { recursive: true, force: true });
      return mounts.length === 0;
    },
  };
}

/**
 * The ports the platform's Node processes listen on, each with its service's name ("sql-runner", "gateway"...),
 * read from /proc: the launcher picks them at its start and tells no one but its children.
 * @returns {Promise<Map<string, string>>} port (as text) to service name
 */
export async function servicePorts(rootPid) {
  const processes = (await platformProcesses(rootPid)).filter((p) => p.kind === 'node');
  const listening = (await readFile('/proc/net/tcp', 'utf8'))
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A');
  const ports = new Map();
  for (const p of processes) {
    const inodes = new Set();
    for (const fd of await readdir(`/proc/${p.pid}/fd`).catch(() => [])) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${p.pid}/fd/${fd}`).catch(() => ''));
      if (m) inodes.add(m[1]);
    }
    for (const f of listening) {
      if (inodes.has(f[9])) ports.set(String(Number.parseInt(f[1].split(':')[1], 16)), p.name);
    }
  }
  return ports;
}
