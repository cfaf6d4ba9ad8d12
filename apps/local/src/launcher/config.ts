import { resolve } from 'node:path';
import { ConfigError, type ConfigOf, envEnum, envInt, envOptional, envString, loadConfig } from '@taidon/kit';

/** Every environment variable of the all-in-one start (`npm start`). */
export const launcherConfigSpec = {
  PORT: envInt('Public port of the gateway (the one URL of the platform).', { default: 8080, min: 0, max: 65_535 }),
  HOST: envString('Address the gateway listens on; services always listen on 127.0.0.1.', { default: '127.0.0.1' }),
  TAIDON_DATA_DIR: envString(
    'Directory holding all state: control-plane PostgreSQL cluster, generated secrets, layers, projects.',
    { default: './.taidon' },
  ),
  DATABASE_URL: envOptional(
    'Superuser URL of an existing PostgreSQL server to use as control plane instead of starting the bundled one.',
    { secret: true },
  ),
  LOG_LEVEL: envString('pino log level of every service.', { default: 'info' }),
  TAIDON_ADMIN_EMAIL: envOptional(
    "Email of the operator's admin account: once every service is up, a password account with TAIDON_ADMIN_PASSWORD is signed up and made admin (an existing account with this email only if that password signs it in). Give both or neither.",
  ),
  TAIDON_ADMIN_PASSWORD: envOptional("Password of TAIDON_ADMIN_EMAIL's account (idp's password rules apply).", {
    secret: true,
  }),
  TAIDON_EXAMPLE_PACKS: envEnum(
    "Whether the platform loads and publishes the example exercise packs once it has an admin: `load` (in the background), or `skip` (an operator's own catalogue only; tests that count the catalogue).",
    ['load', 'skip'],
    { default: 'load' },
  ),
  SERVICE_NODE_ARGS: envString(
    "Node flags for every service process, space-separated (for example `--cpu-prof --cpu-prof-dir=/tmp/prof`); the launcher's own flags are not passed on to them.",
    { default: '' },
  ),
};

/** Validated launcher configuration, with the data directory made absolute. */
export type LauncherConfig = ConfigOf<typeof launcherConfigSpec>;

/** Reads the launcher's configuration, reporting every bad variable at once. */
export function loadLauncherConfig(env: NodeJS.ProcessEnv = process.env): LauncherConfig {
  const config = loadConfig(launcherConfigSpec, env);
  if ((config.TAIDON_ADMIN_EMAIL === undefined) !== (config.TAIDON_ADMIN_PASSWORD === undefined))
    throw new ConfigError(['TAIDON_ADMIN_EMAIL and TAIDON_ADMIN_PASSWORD: give both or neither']);
  return Object.freeze({ ...config, TAIDON_DATA_DIR: resolve(config.TAIDON_DATA_DIR) });
}
