// CPU per operation: what one anonymous sign-in, one REPL run, one reset and
// one new instance cost, next to the physical floor of a new instance on the same
// machine (a btrfs snapshot of the same layer, a PostgreSQL start on it, one
// connection and SELECT 1, a stop and a delete, without the platform).
// bench/load's capacity follows from these figures: on N cores, at most
// N × 1000 / (machine ms per op) operations a second.
//
// The platform runs as `npm start` runs it (bench/lib/load-platform.js: the
// launcher apps/local/dist/all-in-one.js as a child, each service its own Node
// process under it, on a control-plane PostgreSQL this process starts), so its
// CPU is its processes' own (bench/lib/platform-cpu.js), apart from the
// clients'.
// Run after `npm run build`: flock /tmp/taidon-bench.lock node bench/cost.js
// Knobs (environment): BENCH_CLIENTS (8 concurrent clients), BENCH_SIGNINS (500), BENCH_REPL_RUNS (1000),
// BENCH_CLONES (60), BENCH_RESETS (100), BENCH_RESET_STEPS (50: a reset taken apart on a bare server), BENCH_IDLE (100 idle instances whose memory is measured at the end; 0 skips that part),
// BENCH_WARMUP_SIGNINS (500) and BENCH_WARMUP_REPL_RUNS (1000): untimed operations before the sign-in and REPL rows, so
// those rows are the steady state of warm processes (see "Warm-up" below),
// BENCH_IDLE_SETTLE_SECONDS (10) and BENCH_IDLE_WINDOW_SECONDS (15) for the idle platform's CPU, BENCH_ONLY_IDLE=1
// to measure only that and stop,
// PLATFORM_NODE_ARGS (node flags of the launcher, e.g. --cpu-prof; SERVICE_NODE_ARGS those of the services).
//
// Columns: ops/s and latency with BENCH_CLIENTS at once, then CPU per op in ms:
//   "platform" = utime + stime of every Node process of the platform (launcher + services, all threads);
//   "control plane" = the control-plane PostgreSQL (postmaster, backends), where the platform's queries cost;
//   "bench" = this process (the clients: fetch, NDJSON parsing);
//   "machine" = busy time of every CPU of the machine (/proc/stat), everything included.
//
// Warm-up: a Node process optimises a code path only after it ran it many times (and its pools open their
// connections on first use), so the first few hundred sign-ins or runs after a start cost up to twice what
// the same operations cost later (one platform on this 2-core machine, passes one after the other: 7.4, 5.0,
// then 3.2 ms per sign-in over passes of 300; 4.8, 3.4, then 3.1 ms per REPL run over passes of 800). A
// platform that carries hundreds of learners runs warm, so the rows the goals are read from follow an equal
// untimed pass of the same operation; BENCH_WARMUP_SIGNINS=0 BENCH_WARMUP_REPL_RUNS=0 measures cold processes
// as before.

import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { runCommand, serverBinaries, serverOsUser } from '../backend/kit/dist/index.js';
import { processTree, pssBytes } from '../services/env-manager/dist/runtimes/proc.js';
import { startBare } from './lib/bare-server.js';
import { gatewayClient } from './lib/gateway-client.js';
import { startPlatform } from './lib/load-platform.js';
import { cpuDelta, cpuMs, formatCpu, platformCpu, platformProcesses, processStat } from './lib/platform-cpu.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const SIGNINS = Number(process.env.BENCH_SIGNINS ?? 500);
const REPL_RUNS = Number(process.env.BENCH_REPL_RUNS ?? 1000);
const CLONES = Number(process.env.BENCH_CLONES ?? 60);
const RESETS = Number(process.env.BENCH_RESETS ?? 100);
const RESET_STEPS = Number(process.env.BENCH_RESET_STEPS ?? 50);
const WARMUP_SIGNINS = Number(process.env.BENCH_WARMUP_SIGNINS ?? 500);
const WARMUP_REPL_RUNS = Number(process.env.BENCH_WARMUP_REPL_RUNS ?? 1000);
/** After the start, before the idle platform is measured: its start's own work (warm pool, first loops) settles. */
const IDLE_SETTLE_MS = Number(process.env.BENCH_IDLE_SETTLE_SECONDS ?? 10) * 1000;
/** How long the idle platform is measured. */
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_SECONDS ?? 15) * 1000;
const IDLE = Number(process.env.BENCH_IDLE ?? 100);
const IDLE_GOAL_BYTES = 10 * 1024 ** 2;
/** Goals of issue 22: platform CPU (all its Node processes) per operation. */
const GOAL_REPL_MS = 2;
const GOAL_SIGNIN_MS = 3;
const TAIL = 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g;';
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => console.error(`[cost] ${line}`);

/** Busy jiffies of all CPUs (user, nice, system, irq, softirq), in ms (USER_HZ is 100). */
function machineBusyMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) * 10;
}

const platform = await startPlatform({
  env: {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The idle instances are a warm pool of the bench's state: room for them beside the platform's own pool.
    WARM_POOL_MAX_INSTANCES: process.env.WARM_POOL_MAX_INSTANCES ?? String(IDLE + 20),
    SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES ?? String(8 * 1024 ** 3),
    // A benchmark measures operations, not the gateway's limits: every client signs in from this one address.
    RATE_LIMIT_IP_MAX: process.env.RATE_LIMIT_IP_MAX ?? '1000000',
    RATE_LIMIT_ACCOUNT_MAX: process.env.RATE_LIMIT_ACCOUNT_MAX ?? '1000000',
  },
  log,
});
const dataDir = join(platform.root, 'data');
const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8'));
const { serviceToken } = secrets;

/** A service's loopback URL, from the PORT its process was started with. */
async function serviceUrl(name) {
  const found = (await platformProcesses(platform.pid)).find((p) => p.name === name);
  if (!found) throw new Error(`no ${name} process under the launcher`);
  const env = (await readFile(`/proc/${found.pid}/environ`, 'utf8')).split('\0');
  const port = env.find((e) => e.startsWith('PORT='))?.slice(5);
  return `http://127.0.0.1:${port}`;
}

/** Runs `op` `n` times from CLIENTS concurrent loops; the latency of each, in ms. */
async function drive(n, op) {
  const latencies = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      while (next < n) {
        const i = next++;
        const t = now();
        await op(i, client);
        latencies.push(now() - t);
      }
    }),
  );
  return latencies;
}

/** Runs `op` `n` times untimed (see "Warm-up" above); nothing when `n` is 0. */
async function warmUp(label, n, op) {
  if (n <= 0) return;
  const started = now();
  await drive(n, op);
  log(`${label}: ${n} untimed first (${((now() - started) / 1000).toFixed(1)} s)`);
}

/** Runs `op` `n` times from CLIENTS concurrent loops and reports rate, latency and CPU per op. */
async function measure(label, n, op) {
  const platform0 = await platformCpu(platform.pid);
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const started = now();
  const latencies = await drive(n, op);
  const wallMs = now() - started;
  const cpu = process.cpuUsage(cpu0);
  const machineMs = (machineBusyMs() - busy0) / n;
  const spent = cpuDelta(platform0, await platformCpu(platform.pid));
  latencies.sort((a, b) => a - b);
  const row = {
    label,
    n,
    rate: (n / wallMs) * 1000,
    p50: latencies[Math.floor(n * 0.5)],
    p95: latencies[Math.min(n - 1, Math.floor(n * 0.95))],
    platformMs: spent.nodeMs / n,
    controlPlaneMs: spent.controlPlaneMs / n,
    benchMs: (cpu.user + cpu.system) / 1000 / n,
    machineMs,
    breakdown: formatCpu(spent, n),
    sameProcesses: spent.sameProcesses,
  };
  log(`${label}: ${row.platformMs.toFixed(2)} ms platform CPU/op (${row.breakdown})`);
  return row;
}

/** The floor of one new instance: snapshot the layer, start PostgreSQL on it, connect, SELECT 1, stop, delete. */
async function bareInstance(layerPath, scratchDir, i, bins, user) {
  const volume = join(scratchDir, `bare-${i}`);
  await runCommand('btrfs', ['subvolume', 'snapshot', layerPath, volume], { timeoutMs: 60_000 });
  await rm(join(volume, 'postmaster.pid'), { force: true });
  let server;
  try {
    server = await startBare(volume, bins, user);
    const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'learner', database: 'sandbox' });
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
  } finally {
    if (server) {
      server.child.kill('SIGINT');
      await server.exited;
    }
    await runCommand('btrfs', ['subvolume', 'delete', volume], { timeoutMs: 60_000 });
  }
}

/** CPU of a server so far, in ms: its postmaster's own and reaped children's, and every live child's. */
async function serverCpuMs(postmasterPid) {
  const own = await processStat(postmasterPid);
  const children = (await processTree(postmasterPid)).filter((pid) => pid !== postmasterPid);
  return (own?.ms ?? 0) + (own?.reapedMs ?? 0) + (await cpuMs(children));
}

/**
 * A reset taken apart on a bare server (see its call): RESET_STEPS times each of the steps below, in this
 * order, the server's CPU summed per step. Answers [{ step, ms }] per step and iteration.
 */
async function resetAnatomy(layerPath, scratchDir, bins, user, secrets) {
  const volume = join(scratchDir, 'reset-anatomy');
  await runCommand('btrfs', ['subvolume', 'snapshot', layerPath, volume], { timeoutMs: 60_000 });
  await rm(join(volume, 'postmaster.pid'), { force: true });
  const server = await startBare(volume, bins, user);
  const connect = async (admin, database) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: admin ? 'postgres' : 'learner',
      ...(admin ? { password: secrets.sandboxAdminPassword } : {}),
      database,
    });
    await client.connect();
    return client;
  };
  const sums = new Map();
  const step = async (name, work) => {
    const before = await serverCpuMs(server.child.pid);
    await work();
    sums.set(name, (sums.get(name) ?? 0) + (await serverCpuMs(server.child.pid)) - before);
  };
  try {
    const admin = await connect(true, 'postgres');
    await admin.query('SET file_copy_method = clone');
    await admin.query('CREATE DATABASE reset_base TEMPLATE sandbox STRATEGY FILE_COPY');
    const learnerRun = async () => {
      const client = await connect(false, 'sandbox');
      await client.query('SELECT count(*) FROM t');
      await client.end();
    };
    for (let i = 0; i < RESET_STEPS; i++) {
      await step('superuser connection (TCP, SCRAM) and its end', async () => (await connect(true, 'postgres')).end());
      await step('DROP DATABASE sandbox', () => admin.query('DROP DATABASE sandbox WITH (FORCE)'));
      await step('CREATE DATABASE sandbox … STRATEGY FILE_COPY (clone)', () =>
        admin.query('CREATE DATABASE sandbox OWNER learner TEMPLATE reset_base STRATEGY FILE_COPY'),
      );
      await step("the learner's first connection and query after the reset", learnerRun);
      await step("the learner's next connection and query", learnerRun);
    }
    await admin.end();
  } finally {
    server.child.kill('SIGINT');
    await server.exited;
    await runCommand('btrfs', ['subvolume', 'delete', volume], { timeoutMs: 60_000 });
  }
  return [...sums].map(([name, ms]) => ({ name, ms: ms / RESET_STEPS }));
}

const rows = [];
let failed = false;
/** Thrown past the operations when only the idle platform is measured (BENCH_ONLY_IDLE=1). */
const ONLY_IDLE = Symbol('only idle');
try {
  const gatewayUrl = platform.url;
  const envManagerUrl = await serviceUrl('env-manager');
  const snapshotCacheUrl = await serviceUrl('snapshot-cache');
  // The bench times runs, not quotas: one bench account sends far more than a learner's runs a minute.
  await platform.admin.query(`UPDATE user_profile.role_quotas SET runs_per_minute = 1000000 WHERE role = 'anonymous'`);

  const service = (base, method, path, body) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        'x-taidon-service-token': serviceToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => {
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
      return text ? JSON.parse(text) : undefined;
    });
  const client = gatewayClient(gatewayUrl);
  const signIn = () => client.signIn();
  const run = async (token, body) => {
    const { sessionId, done, rows, errors } = await client.run(token, body);
    if (errors.length > 0 || done?.type !== 'done' || done.outcome !== 'ok' || rows.length === 0) {
      throw new Error(`run failed: ${JSON.stringify({ errors, done })}`);
    }
    return { sessionId, done };
  };
  /** Deletes every instance not in the warm pool (the samples' own). */
  const deleteOwnedInstances = async () => {
    const { rows: live } = await platform.admin.query(
      `SELECT id FROM env_manager.instances WHERE NOT pooled AND state IN ('Running', 'Suspended', 'Failed')`,
    );
    for (const { id } of live) await service(envManagerUrl, 'DELETE', `/instances/${id}`);
  };
  const waitWarmPool = async (key, size, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows: r } = await platform.admin.query(
        `SELECT count(*) FILTER (WHERE state = 'Running')::int AS ready,
                count(*) FILTER (WHERE state IN ('Pending', 'Creating'))::int AS starting
           FROM env_manager.instances WHERE pooled AND pool_key = $1`,
        [key],
      );
      if (r[0].ready === size && r[0].starting === 0) return;
      if (Date.now() > deadline) throw new Error(`warm pool ${key} did not reach ${size}: ${JSON.stringify(r[0])}`);
      await sleep(50);
    }
  };
  const setWarmPool = async (key, size) => {
    await service(envManagerUrl, 'PUT', `/warm-pool/${key}`, { size });
    await waitWarmPool(key, size);
  };

  // What the platform spends while nothing happens (loops, timers): it is inside every row's figure. Measured
  // once the start's own work (migrations, the warm pool filling) is over.
  await sleep(IDLE_SETTLE_MS);
  const idle0 = await platformCpu(platform.pid);
  await sleep(IDLE_WINDOW_MS);
  const idleSpent = cpuDelta(idle0, await platformCpu(platform.pid));
  const idlePerSecond = (idleSpent.nodeMs / idleSpent.wallMs) * 1000;
  console.error(
    `[cost] idle platform: ${idlePerSecond.toFixed(1)} ms CPU/s of its Node processes over ${IDLE_WINDOW_MS / 1000} s (${formatCpu(idleSpent, idleSpent.wallMs / 1000)} ms/s)`,
  );
  if (process.env.BENCH_ONLY_IDLE === '1') throw ONLY_IDLE;

  await warmUp('anonymous sign-in', WARMUP_SIGNINS, () => signIn());
  rows.push(await measure('anonymous sign-in (POST /api/auth/anonymous)', SIGNINS, () => signIn()));

  const tokens = [];
  for (let i = 0; i < CLIENTS; i++) tokens.push(await signIn());
  // The state is built once; every later run of this tail is a clone of its layer.
  await run(tokens[0], { tail: { sql: TAIL }, head: 'SELECT 1' });
  await deleteOwnedInstances();
  const plan = await fetch(`${gatewayUrl}/api/plan`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: TAIL }),
  }).then((r) => r.json());
  const layerKey = plan.finalKey;

  const sessions = [];
  for (let c = 0; c < CLIENTS; c++) {
    sessions.push((await run(tokens[c], { tail: { sql: TAIL }, head: 'SELECT 1' })).sessionId);
  }
  // A few runs first so each session's connection and the services' code paths are warm.
  for (let c = 0; c < CLIENTS; c++) await run(tokens[c], { sessionId: sessions[c], head: 'SELECT count(*) FROM t' });
  await warmUp('REPL run', WARMUP_REPL_RUNS, (_, c) =>
    run(tokens[c], { sessionId: sessions[c], head: 'SELECT count(*) FROM t' }),
  );
  rows.push(
    await measure('REPL run (head on the session instance)', REPL_RUNS, (_, c) =>
      run(tokens[c], { sessionId: sessions[c], head: 'SELECT count(*) FROM t' }),
    ),
  );
  // A reset: the tail given again on the session (bench/load's one run in ten), served from the template
  // database its instance keeps (ADR 0029): the same server, its sandbox database dropped and copied again.
  rows.push(
    await measure('reset (tail again, from the template database)', RESETS, async (_, c) => {
      const r = await run(tokens[c], { sessionId: sessions[c], tail: { sql: TAIL }, head: 'SELECT count(*) FROM t' });
      if (r.done.source !== 'template-reset') {
        throw new Error(`expected a template reset, the run reported ${JSON.stringify(r.done)}`);
      }
    }),
  );
  await deleteOwnedInstances();

  rows.push(
    await measure('new instance: run from a cached layer (no pool)', CLONES, async (_, c) => {
      const r = await run(tokens[c], { tail: { sql: TAIL }, head: 'SELECT 1' });
      if (r.done.source !== 'clone') throw new Error(`expected a clone, the run reported ${JSON.stringify(r.done)}`);
    }),
  );
  const deleteStarted = now();
  await deleteOwnedInstances();
  const deleteMs = (now() - deleteStarted) / CLONES;

  // The floor, on the platform's own btrfs and layer: no HTTP, no records, no bookkeeping.
  const driver = await service(snapshotCacheUrl, 'GET', '/driver');
  const layerPath = join(driver.rootDir, 'layers', layerKey);
  if (!existsSync(layerPath)) throw new Error(`no layer at ${layerPath}`);
  const user = serverOsUser();
  const bins = await serverBinaries(undefined, user);
  const scratch = join(driver.rootDir, 'volumes');
  rows.push(
    await measure('floor: snapshot + start + connect + stop + delete', CLONES, (i) =>
      bareInstance(layerPath, scratch, i, bins, user),
    ),
  );

  // Where a reset's sandbox CPU goes: a bare server on a snapshot of the layer (as the floor's), its template
  // database made as env-manager makes it, then each step of a reset and the connections around it, measured in
  // the server's own CPU (its processes, and the children it reaped). BENCH_RESET_STEPS=0 skips it.
  const resetSteps = RESET_STEPS > 0 ? await resetAnatomy(layerPath, scratch, bins, user, secrets) : [];

  // Idle instances: started servers of the state that nobody uses, as a warm pool keeps them.
  // BENCH_IDLE=0 skips the measurement (and its 12 s).
  let idle = 'idle instances: not measured (BENCH_IDLE=0)';
  if (IDLE > 0) {
    await setWarmPool(layerKey, IDLE);
    await sleep(2000); // settle: start-up work done, no connection open
    const { rows: pooled } = await platform.admin.query(
      `SELECT pid FROM env_manager.instances WHERE pooled AND pool_key = $1 AND state = 'Running' AND pid IS NOT NULL`,
      [layerKey],
    );
    const pids = pooled.map((r) => r.pid);
    const trees = await Promise.all(pids.map((pid) => processTree(pid)));
    const idleBytes = await pssBytes(trees.flat());
    // What idle instances cost the machine while nothing runs: 10 s of busy CPU, all of it and the platform's.
    const idleBusy0 = machineBusyMs();
    const p0 = await platformCpu(platform.pid);
    await sleep(10_000);
    const pSpent = cpuDelta(p0, await platformCpu(platform.pid));
    const idleMachinePct = (machineBusyMs() - idleBusy0) / 100;
    const idlePlatformPct = pSpent.nodeMs / 100;
    await setWarmPool(layerKey, 0);
    idle = `${pids.length} idle instances (a warm pool of the state, no connection): PSS ${(idleBytes / 1024 ** 2 / pids.length).toFixed(1)} MiB each over ${(trees.flat().length / pids.length).toFixed(1)} processes (goal ≤ 10 MiB: ${idleBytes / pids.length <= IDLE_GOAL_BYTES ? 'PASS' : 'FAIL'}), ${(idleBytes / 1024 ** 3).toFixed(2)} GiB in all; while they idle, the machine is busy ${idleMachinePct.toFixed(0)} % of one core over 10 s, the platform's Node processes ${idlePlatformPct.toFixed(0)} %`;
  }

  const pad = (s, n) => String(s).padEnd(n);
  const num = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const head = ['operation', 'n', 'ops/s', 'p50 ms', 'p95 ms', 'platform', 'control plane', 'bench', 'machine'];
  const widths = [50, 5, 6, 7, 7, 8, 13, 6, 7];
  const line = (cells) =>
    cells
      .map((c, i) => pad(c, widths[i]))
      .join('  ')
      .trimEnd();
  console.log(`\nCPU ms per operation (${CLIENTS} clients at once):`);
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) {
    console.log(
      line([
        r.label,
        r.n,
        num(r.rate),
        num(r.p50),
        num(r.p95),
        num(r.platformMs),
        num(r.controlPlaneMs),
        num(r.benchMs),
        num(r.machineMs),
      ]),
    );
  }
  const [signin, repl, , clone, floor] = rows;
  const verdict = (row, goal) => {
    const pass = row.platformMs <= goal;
    if (!pass) failed = true;
    return `${num(row.platformMs)} ms (goal ≤ ${goal} ms): ${pass ? 'PASS' : 'FAIL'}`;
  };
  const cores = cpus().length;
  console.log(`
Goals (platform CPU per operation, all its Node processes):
- REPL run: ${verdict(repl, GOAL_REPL_MS)}
- anonymous sign-in: ${verdict(signin, GOAL_SIGNIN_MS)}

Platform CPU by process, ms per operation:
${rows
  .slice(0, 3)
  .map(
    (r) => `- ${r.label}: ${r.breakdown}${r.sameProcesses ? '' : ' (a platform process exited meanwhile: incomplete)'}`,
  )
  .join('\n')}
${
  resetSteps.length === 0
    ? ''
    : `\nA reset taken apart on a bare server of the same layer (the server's CPU per step, ms, mean of ${RESET_STEPS}; 10 ms ticks):\n${resetSteps.map((r) => `- ${r.name}: ${num(r.ms)}`).join('\n')}\n`
}
Notes:
- the sign-in and REPL rows follow ${WARMUP_SIGNINS} and ${WARMUP_REPL_RUNS} untimed operations of their kind (warm processes)
- the platform's Node processes spend ${idlePerSecond.toFixed(0)} ms of CPU a second while nothing happens (timers, loops); that is inside each row (${num(idlePerSecond / repl.rate)} ms of a REPL run's figure at its rate)
- a new instance's row excludes its deletion (${deleteMs.toFixed(0)} ms wall per instance afterwards, one at a time); the floor row includes stop and delete
- the floor row's platform column is what the idle platform spent meanwhile; the platform adds ${num(clone.machineMs - floor.machineMs)} ms of machine CPU to the floor of a new instance (${num(clone.machineMs)} against ${num(floor.machineMs)})
- ${idle}
- on this machine's ${cores} cores, CPU alone bounds the platform at about ${num((1000 * cores) / repl.machineMs)} REPL runs/s or ${num((1000 * cores) / clone.machineMs)} new instances/s`);
} catch (error) {
  if (error !== ONLY_IDLE) throw error;
} finally {
  const stopped = await platform.stop();
  if (stopped.left.processes.length || stopped.left.mounts.length) {
    console.error(`left behind: ${JSON.stringify(stopped.left)}`);
  }
  await platform.removeRoot().catch(() => {});
}
if (failed) process.exitCode = 1;
