import { chmod, mkdir } from 'node:fs/promises';
import { ConfigError, createLogger } from '@taidon/kit';
import { type LauncherConfig, loadLauncherConfig } from './launcher/config.js';
import { type ControlPlane, openControlPlane } from './launcher/control-plane.js';
import { loadOrCreateSecrets } from './launcher/secrets.js';
import { type Running, STATEFUL_SERVICES, startLocalGateway, startServices } from './launcher/services.js';

// `npm start`: every service as its own fastify app on a loopback port, in
// one process, talking real HTTP to each other, behind the gateway on PORT.

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
const running: Running = { services: [] };
let controlPlane: ControlPlane | undefined;
let closing: Promise<void> | undefined;
let starting: Promise<string> | undefined;

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
  const context = {
    dataDir: config.TAIDON_DATA_DIR,
    logLevel: config.LOG_LEVEL,
    secrets,
    databases: controlPlane.databases,
    superuserUrl: controlPlane.superuserUrl,
  };
  const urls = await startServices(context, running);
  const gateway = await startLocalGateway(urls, context, running);
  return gateway.listen({ host: config.HOST, port: config.PORT });
}

/**
 * Closes the services in reverse order of start (no new work; env-manager suspends the instances it runs;
 * snapshot-cache unmounts what it mounted, then a layer store left mounted by a killed run), then the
 * control-plane PostgreSQL.
 */
function shutdown(): Promise<void> {
  closing ??= (async () => {
    // A signal during start waits for it: what start still brings up (a mount, an app) would come after the close.
    await starting?.catch(() => {});
    for (const service of running.services.reverse()) {
      await service.close().catch((error: unknown) => log.error({ err: error, service: service.name }, 'close failed'));
    }
    await controlPlane?.server?.stop();
    log.info('stopped');
  })();
  return closing;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    void shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

try {
  starting = start();
  const url = await starting;
  if (!closing) {
    log.info({ url, dataDir: config.TAIDON_DATA_DIR }, 'Taidon is up');
    process.stdout.write(`\nTaidon is up at ${url.replace('0.0.0.0', '127.0.0.1')}  (Ctrl+C stops it)\n\n`);
  }
} catch (error) {
  log.error({ err: error }, 'start failed');
  await shutdown();
  process.exit(1);
}
