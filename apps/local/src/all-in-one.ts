import { chmod, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger } from '@taidon/kit';
import { ensureAdmin } from './launcher/admin.js';
import { type LauncherConfig, loadLauncherConfig } from './launcher/config.js';
import { type ControlPlane, openControlPlane } from './launcher/control-plane.js';
import {
  type LaunchContext,
  layerImage,
  layerRoot,
  PLATFORM_SERVICES,
  type ServiceUrls,
  STATEFUL_SERVICES,
  serviceEnv,
} from './launcher/env.js';
import { EXAMPLE_PACKS_DIR, loadExamplePacks } from './launcher/example-packs.js';
import { imageMountedAt, unmountLayerStore } from './launcher/layer-store.js';
import { servicePorts } from './launcher/ports.js';
import { Supervisor, serversUnder } from './launcher/processes.js';
import { loadOrCreateSecrets } from './launcher/secrets.js';

// `npm start`: every service as its own supervised Node process (its own dist/server.js, the entry a cluster
// runs), on loopback ports, talking real HTTP to each other, behind the gateway on PORT (ADR 0025).

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
const supervisor = new Supervisor(log);
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
  const context: LaunchContext = {
    dataDir: config.TAIDON_DATA_DIR,
    logLevel: config.LOG_LEVEL,
    secrets,
    databases: controlPlane.databases,
    superuserUrl: controlPlane.superuserUrl,
  };
  // Ports are chosen once, below the ephemeral range: a restarted service listens where the others already call
  // it, and no sandbox server can have taken that port meanwhile.
  const ports = await servicePorts(STATEFUL_SERVICES.length, [config.PORT]);
  const at = (index: number) => `http://127.0.0.1:${ports[index]}`;
  const urls: ServiceUrls = {
    auditLogUrl: at(0),
    userProfileUrl: at(1),
    idpUrl: at(2),
    snapshotCacheUrl: at(3),
    envManagerUrl: at(4),
    sqlRunnerUrl: at(5),
    vcsSyncUrl: at(6),
    exercisesUrl: at(7),
  };
  const root = layerRoot(context);
  const gatewayPort = config.PORT || ((await servicePorts(1, ports))[0] as number);
  const gatewayHost = ['0.0.0.0', '::'].includes(config.HOST) ? '127.0.0.1' : config.HOST;
  for (const [index, service] of PLATFORM_SERVICES.entries()) {
    if (closing) break;
    const gateway = service === 'gateway';
    const port = gateway ? gatewayPort : ports[index];
    await supervisor.start({
      name: service,
      env: {
        ...process.env,
        ...serviceEnv(service, context, urls),
        HOST: gateway ? config.HOST : '127.0.0.1',
        PORT: String(port),
      },
      readyUrl: `http://${gateway ? gatewayHost : '127.0.0.1'}:${port}/health/ready`,
      nodeArgs: config.SERVICE_NODE_ARGS.split(' ').filter(Boolean),
      afterStop: afterStop(service, root),
    });
  }
  if (!closing && config.TAIDON_ADMIN_EMAIL && config.TAIDON_ADMIN_PASSWORD) {
    const endpoint = (name: string, baseUrl: string) => ({
      name,
      baseUrl,
      serviceToken: secrets.serviceToken,
      timeoutMs: 30_000,
    });
    await ensureAdmin(
      { idp: endpoint('idp', urls.idpUrl), userProfile: endpoint('user-profile', urls.userProfileUrl) },
      { email: config.TAIDON_ADMIN_EMAIL, password: config.TAIDON_ADMIN_PASSWORD },
      log,
    );
  }
  if (!closing && config.TAIDON_EXAMPLE_PACKS === 'skip')
    log.info('example exercise packs not loaded: TAIDON_EXAMPLE_PACKS=skip');
  else if (!closing) {
    // In the background: publishing measures every exercise (minutes), and the platform is usable meanwhile.
    const endpoint = (name: string, baseUrl: string) => ({
      name,
      baseUrl,
      serviceToken: secrets.serviceToken,
      timeoutMs: 300_000,
    });
    void loadExamplePacks(
      {
        exercises: endpoint('exercises', urls.exercisesUrl),
        userProfile: endpoint('user-profile', urls.userProfileUrl),
      },
      {
        packsDir: fileURLToPath(EXAMPLE_PACKS_DIR),
        ...(config.TAIDON_ADMIN_EMAIL ? { adminEmail: config.TAIDON_ADMIN_EMAIL } : {}),
      },
      log,
    ).catch((error: unknown) => {
      // Stopped midway by a shutdown, or a pack refused: the platform runs on; the next start takes it up again.
      if (!closing) log.error({ err: error }, 'example exercise packs not loaded');
    });
  }
  return `http://${config.HOST}:${gatewayPort}`;
}

/** What a service leaves behind once its process has stopped, cleaned before the next one stops. */
function afterStop(service: string, root: string): (() => Promise<void>) | undefined {
  if (service === 'env-manager') {
    // Its sandbox servers get SIGINT when its spawner goes (ADR 0024) and finish a fast shutdown: the layer store
    // they run on is unmounted after snapshot-cache stops, so wait for them.
    return async () => {
      const begin = performance.now();
      while ((await serversUnder(root)).length > 0) {
        if (performance.now() - begin > 30_000) {
          log.error({ servers: await serversUnder(root) }, 'sandbox servers still running 30 s after env-manager');
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
  }
  if (service === 'snapshot-cache') {
    // snapshot-cache unmounts what it mounted; an image mounted by a process that did not stop (a crash, a kill -9,
    // a restarted snapshot-cache finds its predecessor's mount) is unmounted here.
    return async () => {
      const image = layerImage({
        SNAPSHOT_CACHE_ROOT: root,
        SNAPSHOT_CACHE_BTRFS_IMAGE: process.env.SNAPSHOT_CACHE_BTRFS_IMAGE,
      });
      if (await imageMountedAt(root, image)) await unmountLayerStore(root);
    };
  }
  return undefined;
}

/**
 * Stops the services in reverse order of start (each with SIGTERM: no new work, then its own close; the
 * sandbox servers stop with env-manager's spawner; then what snapshot-cache left mounted), then the
 * control-plane PostgreSQL.
 */
function shutdown(): Promise<void> {
  closing ??= (async () => {
    // A signal during start ends it: the service being waited for stops being waited for (the supervisor has it
    // and stops it in order below), and the steps before (the control plane) finish first, or what they bring up
    // would come after the close.
    supervisor.beginStop();
    await starting?.catch(() => {});
    await supervisor.stop();
    await controlPlane?.server?.stop();
    log.info('stopped');
  })();
  return closing;
}

// SIGHUP: the terminal closed. The services are in sessions of their own and get nothing from it: stop them in order.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
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
    log.info({ url, dataDir: config.TAIDON_DATA_DIR, pids: supervisor.pids() }, 'Taidon is up');
    process.stdout.write(`\nTaidon is up at ${url.replace('0.0.0.0', '127.0.0.1')}  (Ctrl+C stops it)\n\n`);
  }
} catch (error) {
  // Stopped by a signal during start: the signal's handler finishes the shutdown and exits.
  if (!closing) {
    log.error({ err: error }, 'start failed');
    await shutdown();
    process.exit(1);
  }
}
