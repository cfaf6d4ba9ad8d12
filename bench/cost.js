// CPU per operation: what one REPL run and one new instance cost the machine,
// next to the physical floor of a new instance on the same machine (a btrfs
// snapshot of the same layer, a PostgreSQL start on it, one connection and
// SELECT 1, a stop and a delete, without the platform). bench/load's capacity
// follows from these figures: on N cores, at most N × 1000 / (machine ms per
// op) operations a second.
// Run after `npm run build`: node bench/cost.js
// Knobs (environment): BENCH_CLIENTS (8 concurrent clients), BENCH_REPL_RUNS (1000), BENCH_CLONES (60),
// BENCH_IDLE (100 idle instances whose memory is measured at the end; 0 skips that part).
//
// Columns: ops/s and latency with BENCH_CLIENTS at once; "process" = CPU of this
// Node process (the in-process platform and the clients; all its threads) per
// op; "machine" = busy time of every CPU of the machine (/proc/stat) per op.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, runCommand, serverBinaries, serverOsUser } from '../backend/kit/dist/index.js';
import { processTree, pssBytes } from '../services/env-manager/dist/runtimes/proc.js';
import { now, startPlatform } from './lib/runs-env.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const REPL_RUNS = Number(process.env.BENCH_REPL_RUNS ?? 1000);
const CLONES = Number(process.env.BENCH_CLONES ?? 60);
const IDLE = Number(process.env.BENCH_IDLE ?? 100);
const IDLE_GOAL_BYTES = 10 * 1024 ** 2;
// The idle instances are a warm pool of the bench's state: room for them beside the platform's own pool.
process.env.WARM_POOL_MAX_INSTANCES ??= String(IDLE + 20);
const TAIL = 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g;';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Busy jiffies of all CPUs (user, nice, system, irq, softirq), in ms (USER_HZ is 100). */
function machineBusyMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) * 10;
}

/** Runs `op` `n` times from CLIENTS concurrent loops and reports rate, latency and CPU per op. */
async function measure(label, n, op) {
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const started = now();
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
  const wallMs = now() - started;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    label,
    n,
    rate: (n / wallMs) * 1000,
    p50: latencies[Math.floor(n * 0.5)],
    p95: latencies[Math.min(n - 1, Math.floor(n * 0.95))],
    processMs: (cpu.user + cpu.system) / 1000 / n,
    machineMs: (machineBusyMs() - busy0) / n,
  };
}

/** Starts PostgreSQL on `volume` and waits until its lock file says ready; another port when its own was taken. */
async function startBare(volume, bins, user) {
  for (let attempt = 1; ; attempt++) {
    // freePort's port can be taken before the server binds it (the platform starts servers meanwhile), as in
    // the runtime: then the server exits at once and another port is tried.
    const port = await freePort();
    // The socket goes into the volume itself: the server's OS user owns it.
    const child = spawn(bins.postgres, ['-D', volume, '-p', String(port), '-c', `unix_socket_directories=${volume}`], {
      uid: user.uid,
      gid: user.gid,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (;;) {
      if (child.exitCode !== null) break;
      const lines = (await readFile(join(volume, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
      if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return { child, port, exited };
      await sleep(1);
    }
    if (attempt === 3 || !stderr.includes('could not bind')) throw new Error(`postgres exited during start: ${stderr}`);
  }
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

const platform = await startPlatform();
const rows = [];
try {
  const tokens = [];
  for (let i = 0; i < CLIENTS; i++) tokens.push(await platform.signIn());
  // The state is built once; every later run of this tail is a clone of its layer.
  await platform.run(tokens[0], { tail: { sql: TAIL }, head: 'SELECT 1' });
  await platform.deleteOwnedInstances();
  const plan = await fetch(`${platform.gatewayUrl}/api/plan`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: TAIL }),
  }).then((r) => r.json());
  const layerKey = plan.finalKey;

  const sessions = [];
  for (let c = 0; c < CLIENTS; c++) {
    sessions.push((await platform.run(tokens[c], { tail: { sql: TAIL }, head: 'SELECT 1' })).sessionId);
  }
  rows.push(
    await measure('REPL run (head on the session instance)', REPL_RUNS, (_, c) =>
      platform.run(tokens[c], { sessionId: sessions[c], head: 'SELECT count(*) FROM t' }),
    ),
  );
  await platform.deleteOwnedInstances();

  rows.push(
    await measure('new instance: run from a cached layer (no pool)', CLONES, async (_, c) => {
      const r = await platform.run(tokens[c], { tail: { sql: TAIL }, head: 'SELECT 1' });
      if (r.done.source !== 'clone') throw new Error(`expected a clone, the run reported ${JSON.stringify(r.done)}`);
    }),
  );
  const deleteStarted = now();
  await platform.deleteOwnedInstances();
  const deleteMs = (now() - deleteStarted) / CLONES;

  // The floor, on the platform's own btrfs and layer: no HTTP, no records, no bookkeeping.
  const driver = await fetch(`${platform.urls.snapshotCacheUrl}/driver`, {
    headers: { 'x-taidon-service-token': platform.serviceToken },
  }).then((r) => r.json());
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

  // Idle instances: started servers of the state that nobody uses, as a warm pool keeps them.
  // BENCH_IDLE=0 skips the measurement (and its 12 s).
  let idle = `idle instances: not measured (BENCH_IDLE=0)`;
  if (IDLE > 0) {
    await platform.setWarmPool(layerKey, IDLE);
    await sleep(2000); // settle: start-up work done, no connection open
    const pids = await platform.pooledPids(layerKey);
    const trees = await Promise.all(pids.map((pid) => processTree(pid)));
    const idleBytes = await pssBytes(trees.flat());
    // What idle instances cost the machine while nothing runs: 10 s of busy CPU, all of it and this process's.
    const idleBusy0 = machineBusyMs();
    const idleCpu0 = process.cpuUsage();
    await sleep(10_000);
    const idleCpu = process.cpuUsage(idleCpu0);
    const idleMachinePct = (machineBusyMs() - idleBusy0) / 100;
    const idleProcessPct = (idleCpu.user + idleCpu.system) / 1e5;
    await platform.setWarmPool(layerKey, 0);
    idle = `${pids.length} idle instances (a warm pool of the state, no connection): PSS ${(idleBytes / 1024 ** 2 / pids.length).toFixed(1)} MiB each over ${(trees.flat().length / pids.length).toFixed(1)} processes (goal ≤ 10 MiB: ${idleBytes / pids.length <= IDLE_GOAL_BYTES ? 'PASS' : 'FAIL'}), ${(idleBytes / 1024 ** 3).toFixed(2)} GiB in all; while they idle, the machine is busy ${idleMachinePct.toFixed(0)} % of one core over 10 s, this process (the platform) ${idleProcessPct.toFixed(0)} %`;
  }

  const pad = (s, n) => String(s).padEnd(n);
  const num = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  console.log(
    `\n${pad('operation', 50)}  ${pad('n', 5)}  ${pad('ops/s', 6)}  ${pad('p50 ms', 7)}  ${pad('p95 ms', 7)}  ${pad('process CPU ms/op', 17)}  machine CPU ms/op`,
  );
  console.log(`${'-'.repeat(50)}  -----  ------  -------  -------  -----------------  -----------------`);
  for (const r of rows) {
    console.log(
      `${pad(r.label, 50)}  ${pad(r.n, 5)}  ${pad(num(r.rate), 6)}  ${pad(num(r.p50), 7)}  ${pad(num(r.p95), 7)}  ${pad(num(r.processMs), 17)}  ${num(r.machineMs)}`,
    );
  }
  const [repl, clone, floor] = rows;
  console.log(`\nNotes:
- ${CLIENTS} clients at once; the platform runs in this process, so "process" includes the clients' fetch and NDJSON parsing
- a new instance's row excludes its deletion (${deleteMs.toFixed(0)} ms wall per instance afterwards, one at a time); the floor row includes stop and delete
- the platform adds ${num(clone.machineMs - floor.machineMs)} ms of machine CPU to the floor of a new instance (${num(clone.machineMs)} against ${num(floor.machineMs)})
- ${idle}
- on this machine's ${(await import('node:os')).cpus().length} cores, CPU alone bounds the platform at about ${num((1000 * (await import('node:os')).cpus().length) / repl.machineMs)} REPL runs/s or ${num((1000 * (await import('node:os')).cpus().length) / clone.machineMs)} new instances/s`);
} finally {
  await platform.close();
}
