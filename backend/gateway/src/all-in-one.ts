import { chmod, mkdir } from 'node:fs/promises';
import { buildApp as buildIdp, migrateIdp } from '@taidon/idp';
import { ConfigError, createLogger, createPool, postgresVersion } from '@taidon/kit';
import { buildApp as buildSqlRunner, SANDBOX_RESULT_SETTINGS } from '@taidon/sql-runner';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { buildApp as buildGateway } from './app.js';
import { type LauncherConfig, loadLauncherConfig } from './launcher/config.js';
import { type ControlPlane, openControlPlane } from './launcher/control-plane.js';
import { loadOrCreateSecrets } from './launcher/secrets.js';

// `npm start`: every service as its own fastify app on a loopback port, in
// one process, talking real HTTP to each other, behind the gateway on PORT.

/** Services that keep state in the control plane, each with its own role and schema. */
const STATEFUL_SERVICES = ['idp'] as const;

function readConfig(): LauncherConfig {
  try {
    return loadLauncherConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

const config = readConfig();
const log = createLogger({ service: 'launcher', level: config.LOG_LEVEL });
const apps: FastifyInstance[] = [];
const pools: pg.Pool[] = [];
let controlPlane: ControlPlane | undefined;
let closing: Promise<void> | undefined;

async function listenLoopback(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

async function start(): Promise<string> {
  await mkdir(config.TAIDON_DATA_DIR, { recursive: true, mode: 0o711 });
  // PostgreSQL runs as an unprivileged user, who must be able to pass through (not list) the data directory.
  if (process.getuid?.() === 0) await chmod(config.TAIDON_DATA_DIR, 0o711);
  const secrets = await loadOrCreateSecrets(config.TAIDON_DATA_DIR, STATEFUL_SERVICES);
  const pgLog = createLogger({ service: 'control-plane-postgres', level: config.LOG_LEVEL });
  controlPlane = await openControlPlane({
    dataDir: config.TAIDON_DATA_DIR,
    databaseUrl: config.DATABASE_URL,
    rolePasswords: secrets.rolePasswords,
    onLog: (line) => pgLog.debug(line),
  });
  const idpDb = controlPlane.databases.idp;
  if (!idpDb) throw new Error('idp has no control-plane database');
  const idpPool = createPool(idpDb.url, { applicationName: 'taidon-idp' });
  pools.push(idpPool);
  await migrateIdp(idpPool);

  const level = config.LOG_LEVEL;
  const serviceToken = secrets.serviceToken;
  const idpUrl = await listenLoopback(
    buildIdp({
      config: {
        IDP_ISSUER: 'taidon-idp',
        ACCESS_TOKEN_AUDIENCE: 'taidon',
        ACCESS_TOKEN_TTL_SECONDS: 900,
        SERVICE_TOKEN: serviceToken,
      },
      pool: idpPool,
      logger: createLogger({ service: 'idp', level }),
    }),
  );
  const sqlRunnerUrl = await listenLoopback(
    buildSqlRunner({
      config: { SERVICE_TOKEN: serviceToken },
      engine: { version: await postgresVersion(), settings: SANDBOX_RESULT_SETTINGS },
      logger: createLogger({ service: 'sql-runner', level }),
    }),
  );
  const gateway = buildGateway({
    config: {
      IDP_URL: idpUrl,
      SQL_RUNNER_URL: sqlRunnerUrl,
      SERVICE_TOKEN: serviceToken,
      ACCESS_TOKEN_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      UPSTREAM_TIMEOUT_MS: 60_000,
    },
    logger: createLogger({ service: 'gateway', level }),
  });
  apps.push(gateway);
  return gateway.listen({ host: config.HOST, port: config.PORT });
}

/** Closes servers first (no new work), then pools, then the control-plane PostgreSQL. */
function shutdown(): Promise<void> {
  closing ??= (async () => {
    for (const app of apps.reverse())
      await app.close().catch((error: unknown) => log.error({ err: error }, 'close failed'));
    for (const pool of pools) await pool.end().catch(() => {});
    await controlPlane?.server?.stop();
  })();
  return closing;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    void shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

try {
  const url = await start();
  log.info({ url, dataDir: config.TAIDON_DATA_DIR }, 'Taidon is up');
  process.stdout.write(`\nTaidon is up at ${url.replace('0.0.0.0', '127.0.0.1')}  (Ctrl+C stops it)\n\n`);
} catch (error) {
  log.error({ err: error }, 'start failed');
  await shutdown();
  process.exit(1);
}
