import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  boundToParent,
  chownTree,
  freePort,
  type OsUser,
  processSpawner,
  renice,
  runCommand,
  type ServerBinaries,
  type Spawner,
  type StartedProcess,
  serverBinaries,
  serverOsUser,
  setprivPath,
} from '@taidon/kit';
import type { Logger } from 'pino';
import { StartFailedError } from '../errors.js';
import {
  type CgroupLimits,
  type CgroupSupport,
  createInstanceCgroup,
  detectCgroupSupport,
  killCgroup,
  moveIntoCgroup,
  removeCgroup,
  setCgroupFrozen,
} from './cgroup.js';
import { findPostmasters, isProcessAlive, processTree } from './proc.js';
import type { Runtime, RuntimeLimits, StartedServer, StartServerOptions } from './runtime.js';
import { serverStartArgs } from './server-args.js';

/**
 * Niceness of a server while it starts, and of its background workers for
 * good. Starting an instance is CPU work nobody is typing into yet; when the
 * machine is saturated (a class arriving at once), learners' statements on
 * running instances should get the CPU first, and new instances queue.
 */
export const STARTUP_NICE = 10;

/** Only root may lower a niceness again: elsewhere servers run at the default throughout. */
const mayRenice = () => process.getuid?.() === 0;

/** createLocalRuntime's cgroup options for an INSTANCE_CGROUPS value. */
export function cgroupOptions(
  mode: 'limits' | 'always' | 'off',
): Pick<LocalRuntimeOptions, 'cgroupRoots' | 'cgroupMode'> {
  return mode === 'off' ? { cgroupRoots: [] } : { cgroupMode: mode };
}

/** Options of createLocalRuntime. */
export interface LocalRuntimeOptions {
  /** Holds `<instanceId>/` with the socket directory and `server.log`; keep the path short (sockets ≤ 107 bytes). */
  runDir: string;
  limits: CgroupLimits;
  logger: Logger;
  /** cgroup v2 roots to try; `[]` disables cgroups (the signal freezer is used). */
  cgroupRoots?: readonly string[];
  /**
   * `always`: a cgroup per instance wherever cgroup v2 is writable. `limits`: only where it delegates memory,
   * pids or cpu; for the freezer alone it is not worth it (moving a process into a cgroup waits for an RCU grace
   * period and blocks every fork on the machine meanwhile: under load, half the creation rate). Default `always`.
   */
  cgroupMode?: 'always' | 'limits';
  /** Name of the parent cgroup of all instances. */
  cgroupName?: string;
  /** Directory with initdb and postgres; defaults to the bundled binaries. */
  binDir?: string;
  /** Starts servers (see kit's spawner.ts); default this process's own, null spawns from this process. */
  spawner?: Spawner | null;
}

/**
 * What a postmaster gets when its owner (the spawner, or this process without one) exits, however it exits: fast
 * shutdown, which ends with a checkpoint, so the volume holds every committed change and the next env-manager
 * resumes the instance from it (ADR 0024). No server runs on without an env-manager to stop, freeze or expire it.
 */
const OWNER_EXIT_SIGNAL = 'SIGINT';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Status the postmaster writes on the 8th line of postmaster.pid once it accepts connections. */
const PM_STATUS_READY = 'ready';
/** Re-read the lock file this often even without a change event (a missed event, or no inotify). */
const READY_POLL_MS = 10;

async function lockFileSaysReady(lockFile: string, pid: number): Promise<boolean> {
  const lines = (await readFile(lockFile, 'utf8').catch(() => '')).split('\n');
  // A lock file left by an earlier server names another pid; only our postmaster's status counts.
  return Number(lines[0]) === pid && lines[7]?.trim() === PM_STATUS_READY;
}

/** What PostgreSQL names a relation cache init file (in `global` and in each database's directory). */
const RELCACHE_INIT = 'pg_internal.init';
/** Where one waits while the server starts: not a name PostgreSQL's start-up removes (it removes `pg_internal.init*`). */
const RELCACHE_KEPT = 'taidon-relcache.init';

/** pg_control's `state` (an int after the 8-byte system identifier and two 4-byte versions): DB_SHUTDOWNED. */
const CONTROL_STATE_OFFSET = 16;
const DB_SHUTDOWNED = 1;

/** Whether the server of a data directory last stopped cleanly (a shutdown checkpoint, nothing to replay). */
async function shutDownCleanly(dataDir: string): Promise<boolean> {
  const control = await readFile(join(dataDir, 'global', 'pg_control')).catch(() => undefined);
  return control !== undefined && control.length >= CONTROL_STATE_OFFSET + 4
    ? control.readInt32LE(CONTROL_STATE_OFFSET) === DB_SHUTDOWNED
    : false;
}

/** The directories of a data directory that may hold a relation cache init file. */
async function relcacheDirs(dataDir: string): Promise<string[]> {
  const databases = await readdir(join(dataDir, 'base')).catch(() => [] as string[]);
  return [join(dataDir, 'global'), ...databases.map((oid) => join(dataDir, 'base', oid))];
}

/** Renames `from` to `to` in each directory that has one (an init file is only an optimisation: errors are moot). */
async function renameEach(dirs: readonly string[], from: string, to: string): Promise<void> {
  await Promise.all(dirs.map((dir) => rename(join(dir, from), join(dir, to)).catch(() => {})));
}

/**
 * Waits until the postmaster `pid` says in its lock file that it accepts connections, as `pg_ctl -w` does, but
 * woken by the file's change events (pg_ctl sleeps 100 ms, which would hide a ~30 ms start; polling every
 * millisecond instead costs the event loop thousands of reads a second when many servers start at once). No
 * connection is made: the first one, which rebuilds the relation cache init files, is the caller's.
 */
async function waitReady(
  pid: number,
  options: StartServerOptions,
  exited: () => boolean,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + options.timeoutMs;
  const lockFile = join(options.dataDir, 'postmaster.pid');
  let changed = false;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dataDir, (_event, name) => {
      if (name !== 'postmaster.pid') return;
      changed = true;
      wake?.();
    });
    watcher.on('error', () => {});
  } catch {
    // No change events here: polling alone.
  }
  try {
    while (Date.now() < deadline) {
      if (exited()) return 'exited';
      changed = false;
      if (await lockFileSaysReady(lockFile, pid)) return 'ready';
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, watcher ? READY_POLL_MS : 1);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    return 'timeout';
  } finally {
    watcher?.close();
  }
}

/**
 * The `local` runtime: PostgreSQL server processes on this machine, run as an
 * unprivileged OS user when this process is root, each on its own port on
 * 127.0.0.1 with a private socket directory, in its own cgroup where cgroup
 * v2 is writable. Servers are detached (a signal to env-manager's process
 * group does not reach them) but bound to their owner: when it exits, however
 * it exits, they shut down cleanly (OWNER_EXIT_SIGNAL), and the next
 * env-manager takes their instances over (domain/take-over.ts).
 */
export async function createLocalRuntime(options: LocalRuntimeOptions): Promise<Runtime> {
  const user: OsUser = serverOsUser();
  const bins: ServerBinaries = await serverBinaries(options.binDir, user);
  await mkdir(options.runDir, { recursive: true, mode: 0o755 });
  let cgroups: CgroupSupport = await detectCgroupSupport(options.cgroupName ?? 'taidon', options.cgroupRoots);
  if (options.cgroupMode === 'limits' && cgroups.parent && cgroups.controllers.length === 0) {
    cgroups = {
      parent: undefined,
      controllers: [],
      reasons: [...cgroups.reasons, 'no limit to apply: cgroups unused'],
    };
  }
  const freezer = cgroups.parent && !cgroups.reasons.some((r) => r.includes('cgroup.freeze')) ? 'cgroup' : 'signals';
  const limits: RuntimeLimits = {
    cgroupParent: cgroups.parent,
    controllers: cgroups.controllers,
    freezer,
    reasons: cgroups.reasons,
  };
  const spawnerOf = () => (options.spawner === undefined ? processSpawner() : options.spawner);
  if (!setprivPath()) {
    options.logger.warn(
      { spawner: Boolean(spawnerOf()) },
      'setpriv not found: servers stop with env-manager only when its spawner process can stop them (not after a kill -9 of it, nor without it)',
    );
  }
  if (limits.reasons.length > 0) {
    options.logger.warn(
      { cgroup: cgroups.parent, controllers: limits.controllers, freezer, reasons: limits.reasons },
      'instances run without some cgroup limits; PostgreSQL settings still bound each run',
    );
  }
  const exits = new Map<number, Promise<void>>();
  const cgroupOf = (instanceId: string) => (cgroups.parent ? join(cgroups.parent, instanceId) : undefined);
  const dirOf = (instanceId: string) => join(options.runDir, instanceId);
  /** Run directories made (or being made) since start-up, until forget: prepare and start make each once. */
  const prepared = new Map<string, Promise<void>>();
  /** A port picked while the instance's volume was being made, for its first start attempt. */
  const ports = new Map<string, Promise<number>>();

  async function signalTree(pid: number, signal: NodeJS.Signals): Promise<void> {
    for (const p of await processTree(pid)) {
      try {
        process.kill(p, signal);
      } catch {
        // Exited meanwhile.
      }
    }
  }

  /** Waits until every pid has exited (our own child: reaped); false on timeout. */
  async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (const pid of pids) {
      const exit = exits.get(pid);
      if (exit) {
        // Our own child: node reaps it and then emits exit.
        const timer = sleep(Math.max(0, deadline - Date.now())).then(() => false);
        if (!(await Promise.race([exit.then(() => true), timer]))) return false;
        continue;
      }
      // Not our child: once it is a zombie it holds nothing but its pid, and reaping it is init's job.
      while (isProcessAlive(pid)) {
        if (Date.now() > deadline) return false;
        await sleep(2);
      }
    }
    return true;
  }

  /** Starts the postmaster, through the spawner process where there is one (see kit's spawner.ts). */
  async function launch(opts: StartServerOptions, port: number, dir: string): Promise<StartedProcess | undefined> {
    const args = ['-D', opts.dataDir, '-p', String(port), '-c', `unix_socket_directories=${dir}`, ...serverStartArgs()];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', TZ: 'UTC' };
    const spawner = spawnerOf();
    if (spawner) {
      const owner = user.uid === undefined ? {} : { uid: user.uid, gid: user.gid ?? user.uid };
      const nice = mayRenice() ? { nice: STARTUP_NICE } : {};
      return spawner
        .start({
          file: bins.postgres,
          args,
          cwd: dir,
          env,
          stderrFile: join(dir, 'server.log'),
          parentDeathSignal: OWNER_EXIT_SIGNAL,
          ...owner,
          ...nice,
        })
        .catch(() => undefined);
    }
    // Without the spawner the log is opened here (the spawner opens it itself).
    const log = await open(join(dir, 'server.log'), 'a', 0o600);
    let child: ChildProcess;
    // Bound to this process (spawned from its main thread): without setpriv, a server here outlives it.
    const bound = boundToParent(bins.postgres, args, OWNER_EXIT_SIGNAL);
    try {
      child = spawn(bound?.file ?? bins.postgres, bound?.args ?? args, {
        uid: user.uid,
        gid: user.gid,
        cwd: dir,
        detached: true,
        stdio: ['ignore', 'ignore', log.fd],
        env,
      });
    } finally {
      await log.close();
    }
    const pid = child.pid;
    if (pid === undefined) return undefined;
    // Right after exec, before the postmaster (still loading its libraries) forks its workers.
    if (mayRenice()) renice(pid, STARTUP_NICE);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.unref();
    return { pid, exited };
  }

  async function spawnOnce(opts: StartServerOptions, attempt: number): Promise<StartedServer | 'exited' | 'timeout'> {
    const dir = dirOf(opts.instanceId);
    const early = attempt === 1 ? ports.get(opts.instanceId) : undefined;
    ports.delete(opts.instanceId);
    const port = attempt === 1 && opts.port ? opts.port : ((await early?.catch(() => undefined)) ?? (await freePort()));
    const cgroup = await createInstanceCgroup(cgroups, opts.instanceId, options.limits);
    const started = performance.now();
    const launched = await launch(opts, port, dir);
    if (!launched) return 'exited';
    const { pid } = launched;
    let gone = false;
    exits.set(
      pid,
      launched.exited.then(
        () => {
          gone = true;
          exits.delete(pid);
        },
        // The spawner went away: nobody reports this exit any more. A wait already on it times out (and kills);
        // later waits find no entry and poll the pid.
        () => {
          exits.delete(pid);
          return new Promise<void>(() => {});
        },
      ),
    );
    // The postmaster first, so whatever it forks from now on is born inside; then what it forked before.
    if (cgroup) {
      await moveIntoCgroup(cgroup, [pid]);
      await moveIntoCgroup(cgroup, await processTree(pid));
    }
    const outcome = await waitReady(pid, opts, () => gone);
    if (outcome !== 'ready') {
      await kill(opts.instanceId, pid);
      return outcome;
    }
    // Backends forked from now on (the learner's) run at the normal priority; the workers stay below it.
    if (mayRenice()) renice(pid, 0);
    return { pid, host: '127.0.0.1', port, readyMs: performance.now() - started };
  }

  async function kill(instanceId: string, pid: number): Promise<void> {
    const cgroup = cgroupOf(instanceId);
    const tree = await processTree(pid);
    if (cgroup && (await killCgroup(cgroup).catch(() => false))) {
      await setCgroupFrozen(cgroup, false).catch(() => {});
    }
    for (const p of tree) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    await waitGone(tree, 5000);
    if (cgroup) await removeCgroup(cgroup).catch(() => {});
  }

  const runtime: Runtime = {
    name: 'local',
    limits,

    async initdb(dataDir, adminPassword) {
      const pwfile = join(options.runDir, `initdb-${process.pid}-${Date.now()}-${Math.random()}.pw`);
      await writeFile(pwfile, `${adminPassword}\n`, { mode: 0o600 });
      await chownTree(pwfile, user);
      try {
        await runCommand(
          bins.initdb,
          [
            '-D',
            dataDir,
            '-U',
            'postgres',
            `--pwfile=${pwfile}`,
            '--auth=scram-sha-256',
            '-E',
            'UTF8',
            '--locale=C.UTF-8',
            '--no-instructions',
            // A sandbox is disposable; its durable copy is the layer snapshot-cache keeps.
            '--no-sync',
          ],
          // The sandbox's OS user could read this environment from /proc: none of env-manager's secrets in it.
          {
            timeoutMs: 120_000,
            uid: user.uid,
            gid: user.gid,
            cwd: options.runDir,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', TZ: 'UTC' },
          },
        );
      } finally {
        await rm(pwfile, { force: true });
      }
    },

    async writeDataFile(dataDir, name, content) {
      const path = join(dataDir, name);
      await writeFile(path, content, { mode: 0o600 });
      await chownTree(path, user);
    },

    prepare(instanceId) {
      let made = prepared.get(instanceId);
      if (!made) {
        // The port too, while the volume is made: the first start attempt takes it (a later one picks anew).
        const port = freePort();
        port.catch(() => {});
        ports.set(instanceId, port);
        const dir = dirOf(instanceId);
        made = (async () => {
          await mkdir(dir, { recursive: true, mode: 0o700 });
          await chmod(dir, 0o700);
          await chownTree(dir, user);
        })();
        prepared.set(instanceId, made);
        made.catch(() => prepared.delete(instanceId));
      }
      return made;
    },

    async start(opts) {
      // Relation cache init files kept (see StartServerOptions.relcache) wait under another name while the server
      // starts and come back once it is ready: the first connection reads them instead of building them (~5 ms).
      const keep =
        opts.relcache === 'keep' || (opts.relcache === 'if-shut-down' && (await shutDownCleanly(opts.dataDir)));
      const relcache = keep ? await relcacheDirs(opts.dataDir) : [];
      await Promise.all([
        runtime.prepare(opts.instanceId),
        renameEach(relcache, RELCACHE_INIT, RELCACHE_KEPT),
        opts.copiedLockFile ? rm(join(opts.dataDir, 'postmaster.pid'), { force: true }) : undefined,
      ]);
      try {
        // A port taken between freePort and bind makes the server exit at once; a fresh port then succeeds.
        for (let attempt = 1; ; attempt++) {
          const outcome = await spawnOnce(opts, attempt);
          if (typeof outcome === 'object') return outcome;
          if (outcome === 'timeout' || attempt === 3) {
            throw new StartFailedError(
              outcome === 'timeout' ? `not ready within ${opts.timeoutMs} ms` : 'the server exited during start',
              await runtime.logTail(opts.instanceId),
            );
          }
        }
      } finally {
        await renameEach(relcache, RELCACHE_KEPT, RELCACHE_INIT);
      }
    },

    async stop(instanceId, pid, timeoutMs = 15_000) {
      if (!isProcessAlive(pid)) return;
      const cgroup = cgroupOf(instanceId);
      // A frozen server cannot act on SIGINT; thaw first (harmless when it is not frozen).
      if (cgroup) await setCgroupFrozen(cgroup, false).catch(() => {});
      await signalTree(pid, 'SIGCONT');
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        return;
      }
      const tree = await processTree(pid);
      if (!(await waitGone(tree, timeoutMs))) await kill(instanceId, pid);
      else if (cgroup) await removeCgroup(cgroup).catch(() => {});
    },

    kill,

    async freeze(instanceId, pid) {
      const cgroup = cgroupOf(instanceId);
      if (freezer === 'cgroup' && cgroup) return setCgroupFrozen(cgroup, true);
      // The postmaster first, so it forks nothing new; then every child it has, twice to catch a late fork.
      process.kill(pid, 'SIGSTOP');
      await signalTree(pid, 'SIGSTOP');
      await signalTree(pid, 'SIGSTOP');
    },

    async thaw(instanceId, pid) {
      const cgroup = cgroupOf(instanceId);
      if (freezer === 'cgroup' && cgroup) return setCgroupFrozen(cgroup, false);
      await signalTree(pid, 'SIGCONT');
    },

    isAlive: isProcessAlive,

    stoppedCleanly: shutDownCleanly,

    listServers: findPostmasters,

    async logTail(instanceId) {
      try {
        return (await readFile(join(dirOf(instanceId), 'server.log'), 'utf8')).split('\n').slice(-30).join('\n');
      } catch {
        return '';
      }
    },

    async forget(instanceId) {
      prepared.delete(instanceId);
      ports.delete(instanceId);
      const cgroup = cgroupOf(instanceId);
      if (cgroup) await removeCgroup(cgroup).catch(() => {});
      await rm(dirOf(instanceId), { recursive: true, force: true });
    },
  };
  return runtime;
}
