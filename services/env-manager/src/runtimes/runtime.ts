/**
 * A runtime runs PostgreSQL servers on volumes: `local` as processes on this
 * machine. The local instance domain only talks to this interface. The
 * `kubernetes` runtime (kubernetes.ts: one TaidonInstance resource, and so
 * one Pod, per instance) has operations of its own, driven by
 * domain/cluster-instances.ts, which places each instance on a node agent
 * (ADR 0034, ADR 0045).
 */

/** What start needs. */
export interface StartServerOptions {
  /** Names the server's socket directory, log and cgroup. */
  instanceId: string;
  /** The data directory (the volume path). */
  dataDir: string;
  /** Give up (and kill the server) when it is not ready for connections within this time. */
  timeoutMs: number;
  /** Port to try first (to keep a restarted instance's address); a free one is picked if it is taken. */
  port?: number;
  /**
   * PostgreSQL deletes the relation cache init files at every start (after WAL replay they could be stale), and the
   * first connection builds them again from the catalogs. `keep` keeps them where the caller knows they match the
   * catalogs (a clone of a layer, taken after a CHECKPOINT of an idle server); `if-shut-down` where the server last
   * stopped cleanly (pg_control says so). Without it, PostgreSQL's own behaviour.
   */
  relcache?: 'keep' | 'if-shut-down';
  /**
   * The data directory is a copy of a running server's: its `postmaster.pid` names a postmaster that is alive
   * elsewhere, means nothing here, and would stop the server from starting. Removed before the start.
   */
  copiedLockFile?: boolean;
}

/** A server that accepts connections. */
export interface StartedServer {
  pid: number;
  host: string;
  port: number;
  /** Milliseconds from spawn to the server saying it is ready for connections. */
  readyMs: number;
}

/** Whether limits and the freezer use cgroups here, and why not when they do not. */
export interface RuntimeLimits {
  /** Parent cgroup of all instances, where cgroup v2 is writable. */
  cgroupParent: string | undefined;
  /** cgroup controllers applied to each instance (memory, pids, cpu); empty where none. */
  controllers: string[];
  /** `cgroup` (v2 cgroup.freeze) or `signals` (SIGSTOP/SIGCONT to the postmaster and every child). */
  freezer: 'cgroup' | 'signals';
  /** Why some limit is not applied; what still bounds a run is documented in the README. */
  reasons: string[];
}

/** One postmaster found running, whether or not a record knows it. */
export interface RunningServer {
  pid: number;
  dataDir: string;
}

/** The operations env-manager needs from wherever servers run. */
export interface Runtime {
  readonly name: string;
  readonly limits: RuntimeLimits;
  /** Creates a fresh cluster in an empty data directory (initdb), with `postgres` as superuser. */
  initdb(dataDir: string, adminPassword: string): Promise<void>;
  /** Writes a file into a data directory, owned by the server's OS user. */
  writeDataFile(dataDir: string, name: string, content: string): Promise<void>;
  /** Makes what a server of this instance needs besides its volume (run directory); start does it when not done. */
  prepare(instanceId: string): Promise<void>;
  /**
   * Starts a server on `dataDir` and resolves when it is ready for connections (as `pg_ctl -w` knows it,
   * without connecting: the caller's connection is the first); throws StartFailedError.
   */
  start(options: StartServerOptions): Promise<StartedServer>;
  /**
   * Fast shutdown (SIGINT), waits for exit, SIGKILL after `timeoutMs`. No-op when already gone. Servers also get
   * a fast shutdown when the process that started them exits, however it exits (ADR 0024).
   */
  stop(instanceId: string, pid: number, timeoutMs?: number): Promise<void>;
  /** Kills the server and all its processes at once. */
  kill(instanceId: string, pid: number): Promise<void>;
  /** Suspends every process of the server (new connections hang until thaw). */
  freeze(instanceId: string, pid: number): Promise<void>;
  thaw(instanceId: string, pid: number): Promise<void>;
  isAlive(pid: number): boolean;
  /**
   * Whether the server of a data directory last stopped cleanly (a shutdown checkpoint: every committed change is
   * on the volume, nothing to replay), as after a stop or its owner's exit; false after a crash or a kill.
   */
  stoppedCleanly(dataDir: string): Promise<boolean>;
  /** Every postmaster this runtime can see, for reconcile. */
  listServers(): Promise<RunningServer[]>;
  /** Last lines the server wrote to stderr. */
  logTail(instanceId: string): Promise<string>;
  /** Removes what the runtime keeps for an instance (socket dir, log, cgroup). */
  forget(instanceId: string): Promise<void>;
}
