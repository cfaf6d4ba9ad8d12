// Helpers of bench/runs.js: the whole platform in this process (as
// apps/local/test/stack.ts wires it, from the built dist/ files), a run
// client that times the first `rows` event, and bare PostgreSQL servers for
// the baselines. Plain ESM; run after `npm run build`.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { STATEFUL_SERVICES, startServices } from '../../apps/local/dist/launcher/services.js';
import { buildApp as buildGateway } from '../../backend/gateway/dist/app.js';
import {
  createLogger,
  freePort,
  provisionServiceDatabase,
  runCommand,
  serverBinaries,
  serverOsUser,
  startPostgresServer,
} from '../../backend/kit/dist/index.js';
import { EnvManagerClient } from '../../services/sql-runner/dist/clients/env-manager.js';
import { ThrowawayClones } from '../../services/sql-runner/dist/domain/throwaway/clones.js';
import { startBare } from './bare-server.js';
import { gatewayClient, runFailure } from './gateway-client.js';

export const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Settings the sandbox template gives every instance that matter for speed; baselines get the same. */
export const SANDBOX_LIKE_SETTINGS = {
  fsync: 'off',
  synchronous_commit: 'on',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  autovacuum: 'off',
  jit: 'off',
  io_method: 'sync',
};

/** A temporary directory PostgreSQL (running as the unprivileged `taidon-pg`) can traverse. */
export async function tempRoot(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o711);
  return dir;
}

/**
 * The platform: control-plane server, idp, snapshot-cache, env-manager,
 * sql-runner and the gateway, on loopback, in a fresh temporary directory.
 */
export async function startPlatform() {
  const root = await tempRoot('taidon-bench-runs-');
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { mode: 0o711 });
  await chmod(dataDir, 0o711);
  process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES ??= String(8 * 1024 ** 3);
  const server = await startPostgresServer({ rootDir: join(root, 'control-plane') });
  const running = { services: [] };
  let admin;
  const closers = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((e) => console.error('cleanup:', e.message));
    await rm(root, { recursive: true, force: true });
  };
  closers.push(() => server.stop());
  try {
    const bootstrap = new pg.Client({ connectionString: server.url });
    await bootstrap.connect();
    await bootstrap.query('CREATE DATABASE taidon');
    await bootstrap.end();
    const superuserUrl = new URL(server.url);
    superuserUrl.pathname = '/taidon';
    const databases = {};
    for (const service of STATEFUL_SERVICES) {
      databases[service] = await provisionServiceDatabase(superuserUrl.toString(), service, `bench-${service}-pw`);
    }
    const secrets = { serviceToken: 'bench-service-token', sandboxAdminPassword: 'bench-admin-pw', rolePasswords: {} };
    closers.push(async () => {
      for (const service of [...running.services].reverse()) await service.close();
    });
    const urls = await startServices({ dataDir, logLevel: 'warn', secrets, databases }, running);
    const gateway = buildGateway({
      config: {
        IDP_URL: urls.idpUrl,
        SQL_RUNNER_URL: urls.sqlRunnerUrl,
        SERVICE_TOKEN: secrets.serviceToken,
        ACCESS_TOKEN_ISSUER: 'taidon-idp',
        ACCESS_TOKEN_AUDIENCE: 'taidon',
        UPSTREAM_TIMEOUT_MS: 300_000,
        // A benchmark measures runs, not the gateway's rate limits.
        RATE_LIMIT_ACCOUNT_MAX: 1_000_000,
        RATE_LIMIT_IP_MAX: 1_000_000,
      },
      logger: createLogger({ service: 'gateway', level: 'warn' }),
    });
    running.services.push({ name: 'gateway', close: () => gateway.close() });
    const gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
    admin = new pg.Client({ connectionString: superuserUrl.toString() });
    admin.on('error', () => {});
    await admin.connect();
    closers.push(() => admin.end());
    // The benches time runs, not quotas: one bench account sends far more than a learner's 60 runs a minute.
    await admin.query(`UPDATE user_profile.role_quotas SET runs_per_minute = 1000000 WHERE role = 'anonymous'`);

    const service = (method, path, body) =>
      fetch(`${urls.envManagerUrl}${path}`, {
        method,
        headers: {
          'x-taidon-service-token': secrets.serviceToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => {
        const text = await r.text();
        if (!r.ok) throw new Error(`env-manager ${method} ${path} answered ${r.status}: ${text}`);
        return text ? JSON.parse(text) : undefined;
      });

    const client = gatewayClient(gatewayUrl);
    const signIn = () => client.signIn();

    /**
     * One run; `firstRowMs` is the time from sending the request to the first
     * `rows` event, read incrementally from the stream.
     */
    const run = async (token, body) => {
      const { firstRowMs, sessionId, done, rows, errors } = await client.run(token, body);
      if (runFailure({ done, errors }) || firstRowMs === undefined) {
        throw new Error(`run failed: ${JSON.stringify({ errors, done })}`);
      }
      return { firstRowMs, sessionId, done, rows };
    };

    /** Deletes every instance not in the warm pool (the samples' own). */
    const deleteOwnedInstances = async () => {
      const { rows } = await admin.query(
        `SELECT id FROM env_manager.instances WHERE NOT pooled AND state IN ('Running', 'Suspended', 'Failed')`,
      );
      for (const { id } of rows) await service('DELETE', `/instances/${id}`);
    };

    /** Port of the instance a session runs on. */
    const sessionInstancePort = async (sessionId) => {
      const { rows } = await admin.query(
        `SELECT port FROM env_manager.instances WHERE session_id = $1 AND state = 'Running'`,
        [sessionId],
      );
      if (!rows[0]) throw new Error(`session ${sessionId} has no running instance`);
      return rows[0].port;
    };

    /** Declares a warm pool and waits until it holds `size` Running instances and none starting. */
    const setWarmPool = async (key, size) => {
      await service('PUT', `/warm-pool/${key}`, { size });
      await waitWarmPool(key, size);
    };
    const waitWarmPool = async (key, size, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await admin.query(
          `SELECT count(*) FILTER (WHERE state = 'Running')::int AS ready,
                  count(*) FILTER (WHERE state IN ('Pending', 'Creating'))::int AS starting
             FROM env_manager.instances WHERE pooled AND pool_key = $1`,
          [key],
        );
        if (rows[0].ready === size && rows[0].starting === 0) return;
        if (Date.now() > deadline)
          throw new Error(`warm pool ${key} did not reach ${size}: ${JSON.stringify(rows[0])}`);
        await sleep(10);
      }
    };

    /** Postmaster pids of the ready pooled instances of `key`. */
    const pooledPids = async (key) =>
      (
        await admin.query(
          `SELECT pid FROM env_manager.instances WHERE pooled AND pool_key = $1 AND state = 'Running' AND pid IS NOT NULL`,
          [key],
        )
      ).rows.map((r) => r.pid);

    /** Live sandbox postgres processes the platform started, for the final check. */
    const liveInstances = async () =>
      (await admin.query(`SELECT count(*)::int AS n FROM env_manager.instances WHERE state IN ('Running', 'Creating')`))
        .rows[0].n;

    return {
      root,
      gatewayUrl,
      urls,
      serviceToken: secrets.serviceToken,
      /** The control plane's `taidon` database as its superuser (every service's schema). */
      superuserUrl: superuserUrl.toString(),
      signIn,
      run,
      deleteOwnedInstances,
      sessionInstancePort,
      setWarmPool,
      waitWarmPool,
      pooledPids,
      liveInstances,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Time of `SELECT 1` on an already open connection to port (learner on `sandbox`, as the runner connects). */
export async function headExecution(port, samples) {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'sandbox' });
  await client.connect();
  try {
    for (let i = 0; i < 20; i++) await client.query({ text: 'SELECT 1', rowMode: 'array' });
    const times = [];
    for (let i = 0; i < samples; i++) {
      const started = now();
      await client.query({ text: 'SELECT 1', rowMode: 'array' });
      times.push(now() - started);
    }
    return times;
  } finally {
    await client.end();
  }
}

/** Connects to `url` and reads the first row of `SELECT 1`; resolves when it arrived. */
async function firstRow(config) {
  const client = new pg.Client(config);
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query({ text: 'SELECT 1', rowMode: 'array' });
    if (rows[0]?.[0] !== 1) throw new Error('SELECT 1 answered no row');
  } finally {
    await client.end();
  }
}

/** A shared scratch server (sandbox-like settings) for the CREATE DATABASE … TEMPLATE and restore baselines. */
export async function startScratchServer(root) {
  const server = await startPostgresServer({ rootDir: join(root, 'scratch'), settings: SANDBOX_LIKE_SETTINGS });
  // Loopback connections without a password, as the runner's learner connection to a sandbox:
  // the baselines then time the database work, not SCRAM.
  const hba = join(server.dataDir, 'pg_hba.conf');
  await writeFile(hba, `host all all 127.0.0.1/32 trust\n${await readFile(hba, 'utf8')}`);
  const admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => {});
  await admin.connect();
  await admin.query('SELECT pg_reload_conf()');
  const urlOf = (database) => {
    const url = new URL(server.url);
    url.pathname = `/${database}`;
    return url.toString();
  };
  return {
    server,
    admin,
    urlOf,
    async seed(database, statements) {
      await admin.query(`CREATE DATABASE ${database}`);
      const client = new pg.Client({ connectionString: urlOf(database) });
      await client.connect();
      try {
        for (const sql of statements) await client.query(sql);
        await client.query('CHECKPOINT');
        return Number((await client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
      } finally {
        await client.end();
      }
    },
    /** CREATE DATABASE … TEMPLATE, connect, first row of SELECT 1; the copy is dropped afterwards (untimed). */
    async templateCopy(template, name, strategy) {
      const started = now();
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY ${strategy}`);
      await firstRow({ connectionString: urlOf(name) });
      const ms = now() - started;
      await admin.query(`DROP DATABASE ${name}`);
      return ms;
    },
    /**
     * Writes a plain-format dump of `database` (what `pg_dump -Fp` writes for
     * these objects: the table, its rows as COPY … FROM stdin, then the index).
     */
    async dump(database, table, createTable, createIndex, file) {
      const out = createWriteStream(file);
      out.write("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n");
      if (table) {
        out.write(`${createTable};\nCOPY ${table} FROM stdin;\n`);
        const client = new pg.Client({ connectionString: urlOf(database) });
        await client.connect();
        try {
          await pipeline(client.query(copyStreams.to(`COPY ${table} TO STDOUT`)), out, { end: false });
        } finally {
          await client.end();
        }
        out.write(`\\.\n\n${createIndex};\n`);
      }
      await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
    },
    /** CREATE DATABASE, `psql -f` of the dump into it, connect, first row; dropped afterwards (untimed). */
    async restore(file, name) {
      const started = now();
      await admin.query(`CREATE DATABASE ${name}`);
      await runCommand('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file, urlOf(name)], { timeoutMs: 300_000 });
      await firstRow({ connectionString: urlOf(name) });
      const ms = now() - started;
      await admin.query(`DROP DATABASE ${name}`);
      return ms;
    },
    async close() {
      await admin.end().catch(() => {});
      await server.stop();
    },
  };
}

/**
 * A fresh cluster: initdb (the runtime's flags), start postgres as the
 * unprivileged user, poll until it accepts connections, run `statements`
 * (the seed), first row of SELECT 1. Stops and removes it afterwards (untimed).
 */
export async function initdbAndStart(root, name, statements) {
  const user = serverOsUser();
  const bins = await serverBinaries(undefined, user);
  const dir = join(root, name);
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) {
    await chown(dir, user.uid, user.gid);
    await chown(dataDir, user.uid, user.gid);
  }
  const port = await freePort();
  const started = now();
  await runCommand(
    bins.initdb,
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-instructions',
      '--no-sync',
    ],
    { timeoutMs: 120_000, uid: user.uid, gid: user.gid, cwd: dir, env: { ...process.env, TZ: 'UTC' } },
  );
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    shared_buffers: '16MB',
    max_connections: '10',
    ...SANDBOX_LIKE_SETTINGS,
  };
  const child = spawn(
    bins.postgres,
    ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    {
      uid: user.uid,
      gid: user.gid,
      cwd: dir,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const config = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 };
    for (;;) {
      if (child.exitCode !== null) throw new Error('postgres exited during start');
      const client = new pg.Client(config);
      client.on('error', () => {});
      try {
        await client.connect();
        try {
          for (const sql of statements) await client.query(sql);
          const { rows } = await client.query({ text: 'SELECT 1', rowMode: 'array' });
          if (rows[0]?.[0] !== 1) throw new Error('SELECT 1 answered no row');
        } finally {
          await client.end();
        }
        break;
      } catch (error) {
        await client.end().catch(() => {});
        if (!/ECONNREFUSED|starting up|ECONNRESET|terminated unexpectedly/.test(String(error?.message ?? error)))
          throw error;
        await sleep(1);
      }
    }
    return now() - started;
  } finally {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The floor of a new instance of layer `key`, without the platform, on the platform's own btrfs and layer:
 * a snapshot of the layer, PostgreSQL started on it, one learner connection, the first row of SELECT 1.
 * Answers the `n` times (ms) of that; the stop and delete after each are not timed.
 */
export async function bareFloor(platform, key, n) {
  const driver = await fetch(`${platform.urls.snapshotCacheUrl}/driver`, {
    headers: { 'x-taidon-service-token': platform.serviceToken },
  }).then((r) => r.json());
  if (driver.name !== 'btrfs') throw new Error(`the floor is measured on btrfs; the driver is ${driver.name}`);
  const layerPath = join(driver.rootDir, 'layers', key);
  if (!existsSync(layerPath)) throw new Error(`no layer at ${layerPath}`);
  const user = serverOsUser();
  const bins = await serverBinaries(undefined, user);
  const times = [];
  for (let i = 0; i < n; i++) {
    const volume = join(driver.rootDir, 'volumes', `floor-${key.slice(0, 8)}-${i}`);
    const started = now();
    await runCommand('btrfs', ['subvolume', 'snapshot', layerPath, volume], { timeoutMs: 60_000 });
    await rm(join(volume, 'postmaster.pid'), { force: true });
    let server;
    try {
      server = await startBare(volume, bins, user);
      const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'learner', database: 'sandbox' });
      await client.connect();
      await client.query('SELECT 1');
      times.push(now() - started);
      await client.end();
    } finally {
      if (server) {
        server.child.kill('SIGINT');
        await server.exited;
      }
      await runCommand('btrfs', ['subvolume', 'delete', volume], { timeoutMs: 60_000 });
    }
  }
  return times;
}

/**
 * sql-runner's throwaway clone alone (ADR 0031), on the platform's env-manager: a reservation, a clone of layer
 * `key` started (env-manager's whole create: record, snapshot, server start, the template database), the learner
 * connection and the first row of SELECT 1; the clone's delete after is untimed here and given apart.
 */
export async function throwawayFirstRow(platform, key, n) {
  const envManager = new EnvManagerClient({
    name: 'env-manager',
    baseUrl: platform.urls.envManagerUrl,
    serviceToken: platform.serviceToken,
    timeoutMs: 60_000,
  });
  const clones = new ThrowawayClones({ envManager }, { maxPerAccount: 1, maxTotal: 1 });
  const firstRow = [];
  const whole = [];
  for (let i = 0; i < n; i++) {
    const reservation = await clones.reserve('bench', 1);
    const started = now();
    await reservation.withClone(key, `bench-throwaway-${i}`, async (clone) => {
      await clone.connection.learner.query('SELECT 1');
      firstRow.push(now() - started);
    });
    // The clone's delete runs after withClone answers; the reservation is given back once it is done.
    await reservation.release();
    whole.push(now() - started);
  }
  return { firstRow, whole };
}
