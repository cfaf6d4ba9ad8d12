// What a learner's sandbox server costs the machine between runs: its background processes (postmaster,
// checkpointer, background writer, WAL writer) and its backend, while a learner runs something every 5–20 s
// (bench/load's think time). Two groups of servers side by side in the same window, so the machine's speed is
// the same for both: the baseline (what servers ran with before ADR 0058: PostgreSQL's 200 ms delays, the
// template's asynchronous commits) and env-manager's start settings (services/env-manager/src/runtimes/
// server-args.ts).
//
// Each server is the sandbox template's configuration (env-manager's postgresqlConf) on one initdb'd data
// directory, copied per server; one connection each, held as sql-runner holds a session's. CPU is read from
// /proc/<pid>/schedstat (nanoseconds of run time), not from the 10 ms ticks of /proc/<pid>/stat: a wake-up of
// a background process is far shorter than a tick.
//
// Run after `npm run build`: flock /tmp/taidon-bench.lock node bench/idle-servers.js
// Knobs (environment): BENCH_SERVERS (40 per group), BENCH_WINDOW_SECONDS (60), BENCH_THINK_MIN_SECONDS (5),
// BENCH_THINK_MAX_SECONDS (20), BENCH_TRY_SETTINGS (a third group: the baseline with these settings over them).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chownTree, runCommand, serverBinaries, serverOsUser } from '../backend/kit/dist/index.js';
import { postgresqlConf } from '../services/env-manager/dist/engine/template.js';
import { processTree } from '../services/env-manager/dist/runtimes/proc.js';
import { SERVER_START_SETTINGS, serverStartArgs } from '../services/env-manager/dist/runtimes/server-args.js';
import { startBare } from './lib/bare-server.js';

const SERVERS = Number(process.env.BENCH_SERVERS ?? 40);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_SECONDS ?? 60) * 1000;
const THINK_MIN_MS = Number(process.env.BENCH_THINK_MIN_SECONDS ?? 5) * 1000;
const THINK_MAX_MS = Number(process.env.BENCH_THINK_MAX_SECONDS ?? 20) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => console.error(`[idle-servers] ${line}`);

/** The baseline: what servers ran with before ADR 0058 (PostgreSQL's 200 ms, the template's asynchronous commits). */
const BEFORE = { bgwriter_delay: '200ms', wal_writer_delay: '200ms', synchronous_commit: 'off' };
for (const name of Object.keys(SERVER_START_SETTINGS)) {
  if (!(name in BEFORE)) throw new Error(`bench/idle-servers: no baseline value for ${name}`);
}
const asArgs = (settings) => Object.entries(settings).flatMap(([n, v]) => ['-c', `${n}=${v}`]);
const groups = [
  { name: 'before (200 ms, async commits)', args: asArgs(BEFORE) },
  { name: 'env-manager start settings', args: serverStartArgs() },
];
// BENCH_TRY_SETTINGS (a JSON object of settings): a third group, the baseline with these settings over them.
if (process.env.BENCH_TRY_SETTINGS) {
  groups.push({ name: 'tried settings', args: asArgs({ ...BEFORE, ...JSON.parse(process.env.BENCH_TRY_SETTINGS) }) });
}

/** Run time of a process so far, in ns (0 once it is gone). */
async function runNs(pid) {
  const text = await readFile(`/proc/${pid}/schedstat`, 'utf8').catch(() => '0');
  return Number(text.split(' ')[0]);
}

/** The processes of a server and whether each is a backend (a connection) or a background process. */
async function serverProcesses(postmasterPid) {
  const out = [];
  for (const pid of await processTree(postmasterPid)) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    // Backends are "postgres: <user> <database> <client> <state>"; the others name their role.
    const background = pid === postmasterPid || /^postgres: (checkpointer|background writer|walwriter)/.test(cmd);
    out.push({ pid, kind: background ? 'background' : 'backend' });
  }
  return out;
}

async function startServer(bins, user, dir, args) {
  const { child, port, exited } = await startBare(dir, bins, user, ['-c', 'listen_addresses=', ...args]);
  const client = new pg.Client({ host: dir, port, user: 'bench', database: 'postgres' });
  await client.connect();
  await client.query('CREATE TABLE w (x int)');
  return { child, dir, client, exited };
}

const user = serverOsUser();
const bins = await serverBinaries(undefined, user);
const root = await mkdtemp(join(tmpdir(), 'taidon-idle-servers-'));
const servers = [];
try {
  await chownTree(root, user);
  const template = join(root, 'template');
  await runCommand(bins.initdb, ['-D', template, '-U', 'bench', '--auth=trust', '--no-sync'], {
    uid: user.uid,
    gid: user.gid,
    timeoutMs: 120_000,
  });
  const conf = join(template, 'postgresql.conf');
  const settings = {
    statementTimeoutMs: 5000,
    idleInTransactionTimeoutMs: 5000,
    workMemKb: 4096,
    tempFileLimitKb: 65536,
  };
  await writeFile(conf, (await readFile(conf, 'utf8')) + postgresqlConf(settings));
  log(`starting ${SERVERS} servers per group, interleaved`);
  for (let i = 0; i < SERVERS; i++) {
    for (const [g, group] of groups.entries()) {
      const dir = join(root, `s${g}-${i}`);
      await runCommand('cp', ['-a', '--reflink=auto', template, dir], { timeoutMs: 60_000 });
      servers.push({ group: g, ...(await startServer(bins, user, dir, group.args)) });
    }
  }
  // Learners: each server gets a write and a read, then a think time, until the window ends.
  const ends = performance.now() + 10_000 + WINDOW_MS;
  const think = () => THINK_MIN_MS + Math.random() * (THINK_MAX_MS - THINK_MIN_MS);
  const learners = servers.map(async (s) => {
    await sleep(Math.random() * THINK_MAX_MS);
    while (performance.now() < ends) {
      await s.client.query('INSERT INTO w SELECT g FROM generate_series(1, 100) g');
      await s.client.query('SELECT count(*) FROM w');
      await sleep(think());
    }
  });
  // The window starts 10 s in, once every learner has run at least once or is about to.
  await sleep(10_000);
  const sample = async () => {
    const byGroup = groups.map(() => ({ background: 0, backend: 0 }));
    for (const s of servers) {
      for (const p of await serverProcesses(s.child.pid)) byGroup[s.group][p.kind] += await runNs(p.pid);
    }
    return byGroup;
  };
  const before = await sample();
  const t0 = performance.now();
  await Promise.all(learners);
  const after = await sample();
  const seconds = (performance.now() - t0) / 1000;
  const rows = groups.map((group, g) => {
    const per = (kind) => (after[g][kind] - before[g][kind]) / 1e6 / seconds / SERVERS;
    return { name: group.name, background: per('background'), backend: per('backend') };
  });
  console.log(
    `\nA learner's server between runs: CPU ms per second per server (${SERVERS} servers per group, ${seconds.toFixed(0)} s window, a write and a read every ${THINK_MIN_MS / 1000}–${THINK_MAX_MS / 1000} s)`,
  );
  console.log('group                            background  backend  total   900 servers (cores)');
  console.log('-------------------------------  ----------  -------  ------  -------------------');
  for (const r of rows) {
    const total = r.background + r.backend;
    console.log(
      `${r.name.padEnd(31)}  ${r.background.toFixed(3).padStart(10)}  ${r.backend.toFixed(3).padStart(7)}  ${total.toFixed(3).padStart(6)}  ${((total * 900) / 1000).toFixed(3).padStart(19)}`,
    );
  }
  const saved = rows[0].background - rows[1].background;
  console.log(
    `\nenv-manager's start settings (${Object.entries(SERVER_START_SETTINGS)
      .map(([n, v]) => `${n}=${v}`)
      .join(
        ', ',
      )}) take ${saved.toFixed(3)} ms/s off each server's background processes: ${((saved * 900) / 1000).toFixed(2)} cores at 900 learners`,
  );
} finally {
  for (const s of servers) {
    await s.client.end().catch(() => {});
    s.child.kill('SIGINT');
  }
  await Promise.all(servers.map((s) => s.exited));
  await rm(root, { recursive: true, force: true });
}
