// The platform's own CPU, read from /proc: which processes are the platform
// (the launcher's Node process, each service's Node child, the control-plane
// PostgreSQL) and how much CPU (utime + stime) they have used. The sandbox
// PostgreSQL servers env-manager starts are NOT the platform: they are the
// learner's work, and bench/cost's floor row measures what they cost alone.
//
// How a caller uses it (bench/cost.js, bench/load.js):
//
//   import { platformCpu, cpuDelta, formatCpu } from './lib/platform-cpu.js';
//   const before = await platformCpu(platform.pid);          // the launcher's pid (load-platform's child)
//   ... the measured phase ...
//   const spent = cpuDelta(before, await platformCpu(platform.pid));
//   spent.nodeMs          // ms of CPU of every platform Node process (launcher + services)
//   spent.controlPlaneMs  // ms of CPU of the control-plane PostgreSQL (postmaster, backends, reaped backends)
//   spent.byName          // { launcher, gateway, 'sql-runner', ..., 'control-plane' } in ms
//
// Lower level: platformProcesses(rootPid) lists [{ pid, name, kind: 'node' | 'control-plane' }];
// cpuMs(pids) sums utime + stime of those pids in ms (a pid gone counts 0); processStat(pid) is one
// process's { ppid, ms, reapedMs } (its own CPU and its reaped children's), undefined once it is gone.
//
// What it does not count: short-lived helper programs the services run
// (btrfs, initdb, setpriv before it execs) and a service process that exited
// between two samples (a restart loses the dead process's CPU: compare
// `processes` of both samples when that matters). Node's utime/stime cover
// every thread of the process (the libuv pool, GC helpers, workers).
//
// The control plane is found as a postgres postmaster whose data directory
// ends in /control-plane/data (what the launcher and bench/lib/load-platform.js
// both start), anywhere on the machine when `controlPlaneDataDir` is not
// given (the bench starts it itself, so it is not the launcher's descendant);
// with `controlPlaneDataDir`, exactly that one. Its backends are its children;
// backends that exited are in the postmaster's cutime + cstime (it reaps them).
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** Parsed /proc/<pid>/stat: ppid and times in ms; undefined when the process is gone. */
export async function processStat(pid) {
  let text;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    comm,
    ppid: Number(f[1]),
    ms: (Number(f[11]) + Number(f[12])) * TICK_MS,
    reapedMs: (Number(f[13]) + Number(f[14])) * TICK_MS,
  };
}

async function argv(pid) {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
}

/** Every live process's stat, with children by parent. */
async function snapshot() {
  const names = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const stats = new Map();
  for (let i = 0; i < names.length; i += 128) {
    for (const s of await Promise.all(names.slice(i, i + 128).map((n) => processStat(Number(n))))) {
      if (s) stats.set(s.pid, s);
    }
  }
  const children = new Map();
  for (const s of stats.values()) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s.pid);
  }
  return { stats, children };
}

/** The service a Node process runs, from its argv; undefined when it is no platform entry point. */
function serviceOf(args) {
  for (const a of args) {
    if (a.endsWith('/all-in-one.js')) return 'launcher';
    const m = /\/(?:services|backend)\/([^/]+)\/dist\/server\.js$/.exec(a);
    if (m) return m[1];
  }
  return undefined;
}

function dataDirOf(args) {
  const i = args.indexOf('-D');
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The platform's processes under `rootPid` (the launcher, or any ancestor of it): its Node processes by
 * service, and the control-plane postmaster with its live backends.
 * @param {number} rootPid
 * @param {{ controlPlaneDataDir?: string }} [options]
 * @returns {Promise<{ pid: number, name: string, kind: 'node' | 'control-plane' }[]>}
 */
export async function platformProcesses(rootPid, options = {}) {
  return (await discover(rootPid, options, await snapshot())).processes;
}

async function discover(rootPid, options, { stats, children }) {
  const processes = [];
  // Node processes: descendants of rootPid whose argv names a platform entry point, and every Node process
  // under one of those (env-manager's spawner child: kit/dist/spawner-child.js), named after the service and
  // its script ("env-manager:spawner-child"). PostgreSQL servers are not followed into.
  const queue = [{ pid: rootPid, service: undefined }];
  while (queue.length > 0) {
    const { pid, service } = queue.shift();
    const s = stats.get(pid);
    if (!s) continue;
    const args = await argv(pid);
    const isNode = /(^|\/)node$/.test(args[0] ?? '') || s.comm === 'node';
    const entry = isNode ? serviceOf(args) : undefined;
    const script = args.find((a) => a.endsWith('.js'));
    const name =
      entry ?? (isNode && service ? `${service}:${script?.split('/').pop()?.replace(/\.js$/, '')}` : undefined);
    if (name) processes.push({ pid, name, kind: 'node' });
    // setpriv execs into node (same pid); npm or a shell may sit between the caller and the launcher.
    if (!/postgres/.test(s.comm)) {
      for (const child of children.get(pid) ?? []) queue.push({ pid: child, service: entry ?? service });
    }
  }
  // The control plane: the postmaster and its children (backends, checkpointer, walwriter...).
  const wanted = options.controlPlaneDataDir?.replace(/\/+$/, '');
  for (const s of stats.values()) {
    if (s.comm !== 'postgres') continue;
    const parent = stats.get(s.ppid);
    if (parent?.comm === 'postgres') continue; // a backend, not a postmaster
    const args = await argv(s.pid);
    const dir = dataDirOf(args)?.replace(/\/+$/, '');
    if (!dir) continue;
    if (wanted ? dir === wanted : dir.endsWith('/control-plane/data')) {
      processes.push({ pid: s.pid, name: 'control-plane', kind: 'control-plane', postmaster: true });
      for (const child of children.get(s.pid) ?? []) {
        processes.push({ pid: child, name: 'control-plane', kind: 'control-plane' });
      }
      if (wanted) break;
    }
  }
  return { processes, stats };
}

/** Sum of utime + stime of `pids`, in ms; a pid that is gone counts 0. */
export async function cpuMs(pids) {
  let total = 0;
  for (const s of await Promise.all(pids.map(processStat))) total += s?.ms ?? 0;
  return total;
}

/**
 * One sample of the platform's CPU so far (cumulative since each process started): discovers the processes
 * afresh (a restarted service, new backends) and reads their times.
 * @returns {Promise<{ at: number, nodeMs: number, controlPlaneMs: number, byName: Record<string, number>, processes: object[] }>}
 */
export async function platformCpu(rootPid, options = {}) {
  const { processes, stats } = await discover(rootPid, options, await snapshot());
  const byName = {};
  let nodeMs = 0;
  let controlPlaneMs = 0;
  for (const p of processes) {
    const s = stats.get(p.pid);
    if (!s) continue;
    // Reaped children count for the postmaster (its exited backends); a Node service's reaped children are
    // sandbox servers and commands, not the platform's own CPU.
    const ms = s.ms + (p.postmaster ? s.reapedMs : 0);
    byName[p.name] = (byName[p.name] ?? 0) + ms;
    if (p.kind === 'node') nodeMs += ms;
    else controlPlaneMs += ms;
  }
  return { at: performance.now(), nodeMs, controlPlaneMs, byName, processes };
}

/** CPU spent between two samples of platformCpu, in ms (wallMs: time between them). */
export function cpuDelta(before, after) {
  const byName = {};
  for (const name of new Set([...Object.keys(before.byName), ...Object.keys(after.byName)])) {
    byName[name] = (after.byName[name] ?? 0) - (before.byName[name] ?? 0);
  }
  const pids = (sample) => new Set(sample.processes.filter((p) => p.kind === 'node').map((p) => p.pid));
  const a = pids(before);
  const b = pids(after);
  return {
    wallMs: after.at - before.at,
    nodeMs: after.nodeMs - before.nodeMs,
    controlPlaneMs: after.controlPlaneMs - before.controlPlaneMs,
    byName,
    /** False when a platform Node process exited or appeared in between (its CPU is then incomplete). */
    sameProcesses: a.size === b.size && [...a].every((pid) => b.has(pid)),
  };
}

/** "gateway 1.2, sql-runner 3.4, ..." per op, for a log line. */
export function formatCpu(delta, ops = 1) {
  return Object.entries(delta.byName)
    .sort((x, y) => y[1] - x[1])
    .map(([name, ms]) => `${name} ${(ms / ops).toFixed(2)}`)
    .join(', ');
}

/**
 * Where the whole machine's CPU goes, by kind of process, cumulative (ms): `byKind` holds the platform's Node
 * processes, the control plane, the sandbox servers, this bench's own process, the kernel's threads, interrupts
 * (irq and softirq of /proc/stat) and `other` (every other process alive at the sample); `busyMs` is the
 * machine's busy time from /proc/stat (every core). A process that started and exited between two samples
 * counts in no class unless a counted process reaped it (formatMachineCpu shows it as unattributed).
 *
 * Sandbox servers: every postgres postmaster on the machine that is not the control plane (so run it where no
 * other platform runs), with its live children and the children it reaped (exited backends); plus what the
 * platform's Node processes reaped (a sandbox server that exited, the btrfs and initdb commands env-manager
 * runs), which cannot be told apart afterwards. `sandboxes` splits them: learners' backends, the platform's
 * superuser backends (resets, size looks, checkpoints), other backends, the servers' own background processes,
 * and one net figure for the postmasters, their exited backends and what the platform reaped: a server that exits
 * between two samples takes its counters out of the first and puts them into its reaper's in the second, so only
 * the three together are a difference of like with like (apart they went below zero in a run that stopped
 * servers). A backend alive at the first sample whose server then exits moves into that figure the same way, so
 * the backends' rows are low by what such backends had used before the first sample.
 * @returns {Promise<{ at: number, busyMs: number, byKind: Record<string, number>, sandboxes: Record<string, number> }>}
 */
export async function machineCpuByKind(rootPid, options = {}) {
  const snap = await snapshot();
  const { processes, stats } = await discover(rootPid, options, snap);
  const platformPids = new Set(processes.map((p) => p.pid));
  const byKind = { 'platform Node': 0, 'control plane': 0, sandboxes: 0, 'bench client': 0, kernel: 0, other: 0 };
  const sandboxes = {
    'learner backends': 0,
    'admin backends': 0,
    'other backends': 0,
    'background processes': 0,
    'postmasters and exited processes (net)': 0,
  };
  for (const p of processes) {
    const s = stats.get(p.pid);
    if (!s) continue;
    if (p.kind === 'node') {
      byKind['platform Node'] += s.ms;
      byKind.sandboxes += s.reapedMs;
      sandboxes['postmasters and exited processes (net)'] += s.reapedMs;
    } else byKind['control plane'] += s.ms + (p.postmaster ? s.reapedMs : 0);
  }
  for (const s of stats.values()) {
    if (platformPids.has(s.pid)) continue;
    if (s.pid === process.pid) byKind['bench client'] += s.ms;
    else if (s.pid === 2 || s.ppid === 2) byKind.kernel += s.ms;
    else if (s.comm === 'postgres') {
      const parent = stats.get(s.ppid);
      const postmaster = parent?.comm !== 'postgres';
      byKind.sandboxes += s.ms + (postmaster ? s.reapedMs : 0);
      if (postmaster) sandboxes['postmasters and exited processes (net)'] += s.ms + s.reapedMs;
      else sandboxes[sandboxProcessKind((await argv(s.pid))[0] ?? '')] += s.ms;
    } else byKind.other += s.ms;
  }
  const ticks = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal
  const busyTicks = ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
  byKind.interrupts = (ticks[5] + ticks[6]) * TICK_MS;
  return { at: performance.now(), busyMs: busyTicks * TICK_MS, byKind, sandboxes };
}

/**
 * A sandbox server's child by its process title: a backend names its user ("postgres: learner sandbox …" is a
 * learner's connection, "postgres: postgres …" the platform's superuser: resets, size looks, checkpoints), other
 * titles are the server's own processes (checkpointer, walwriter, background writer, startup).
 */
function sandboxProcessKind(title) {
  const m = /^postgres: (\S+) (\S+) /.exec(title);
  if (!m) return 'background processes';
  if (m[1] === 'learner') return 'learner backends';
  if (m[1] === 'postgres') return 'admin backends';
  return 'other backends';
}

/**
 * The machine's CPU between two samples of machineCpuByKind, per `ops` (ms), as "sandboxes 12.1, platform Node
 * 7.9, …, unattributed 0.4 of 24.0 ms busy": unattributed is busy time no class holds (a process that came and
 * went between the samples, rounding of the per-process ticks).
 */
export function formatMachineCpu(before, after, ops = 1) {
  const parts = [];
  let attributed = 0;
  for (const kind of Object.keys(after.byKind)) {
    const ms = after.byKind[kind] - (before.byKind[kind] ?? 0);
    attributed += ms;
    parts.push([kind, ms]);
  }
  const busy = after.busyMs - before.busyMs;
  parts.push(['unattributed', busy - attributed]);
  const sandboxes = Object.keys(after.sandboxes)
    .map((kind) => [kind, after.sandboxes[kind] - (before.sandboxes[kind] ?? 0)])
    .sort((x, y) => y[1] - x[1])
    .map(([kind, ms]) => `${kind} ${(ms / ops).toFixed(1)}`)
    .join(', ');
  return `${parts
    .sort((x, y) => y[1] - x[1])
    .map(([kind, ms]) => `${kind} ${(ms / ops).toFixed(1)}`)
    .join(', ')} of ${(busy / ops).toFixed(1)} ms busy; the sandboxes' by process: ${sandboxes}`;
}
