import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * What Linux's /proc says about processes: liveness, children, command lines
 * and memory. The local runtime finds a postmaster's workers and backends
 * here, and reconcile finds servers nobody recorded.
 */

/** Whether `pid` names a running process (not a zombie waiting to be reaped). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Synchronous on purpose: callers poll this in tight loops. Field 3 follows the
    // parenthesised command name, which may itself contain spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Direct children of every thread of `pid` (kernel ≥ 3.5 with CONFIG_PROC_CHILDREN). */
export async function childPids(pid: number): Promise<number[]> {
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const task of tasks) {
    try {
      const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8');
      for (const word of text.split(/\s+/)) if (word) out.push(Number(word));
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}

/** `pid` and all its descendants, parents before children. */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(await childPids(next)));
  }
  return out;
}

/** A postmaster found in /proc: its pid and the data directory given with `-D`. */
export interface FoundServer {
  pid: number;
  dataDir: string;
}

/**
 * Every postmaster on this machine started as `postgres -D <dir> …` (the
 * form the local runtime uses). Workers and backends rewrite their command
 * line to "postgres: …", so only postmasters carry `-D`.
 */
export async function findPostmasters(): Promise<FoundServer[]> {
  const out: FoundServer[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (basename(argv[0] ?? '') !== 'postgres') continue;
    const at = argv.indexOf('-D');
    const dataDir = at >= 0 ? argv[at + 1] : undefined;
    if (dataDir) out.push({ pid: Number(entry), dataDir });
  }
  return out;
}

/** Proportional set size of the given processes, in bytes (shared pages split between their users). */
export async function pssBytes(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    try {
      const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = /^Pss:\s+(\d+) kB/m.exec(text)?.[1];
      if (kb) total += Number(kb) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/** MemAvailable from /proc/meminfo, in bytes; undefined where it cannot be read. */
export async function memAvailableBytes(): Promise<number | undefined> {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
