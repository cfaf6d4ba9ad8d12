import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { V1Container } from '@kubernetes/client-node';
import {
  postgresqlConf,
  SANDBOX_ADMIN_USER,
  SANDBOX_DATABASE,
  SANDBOX_USER,
  setupStatements,
  type TemplateSettings,
} from '../../engine/template.js';

// An empty clone (no agent held any layer of the chain) becomes the sandbox
// template in the Pod itself, by an init container of the sandbox image: the
// same initdb, configuration and role setup the local runtime's template gets
// (from the same functions, so the engine identity in every base key holds),
// run as the Pod's uid on its own clone. The node agent needs no PostgreSQL
// binaries of its own and no privilege beyond its disk (ADR 0049).

/** Written last in the data directory: a clone without it is empty or half made, and is made again. */
export const INITIALISED_MARKER = 'taidon-initialised';

/**
 * The init container's script (POSIX sh; `$1` is the data directory). Done once: a Pod made again on the same
 * clone (after a suspend, a drift repair) finds the marker and leaves the cluster as the learner left it.
 */
export const INIT_CLONE_SCRIPT = `set -eu
data="$1"
if [ -e "$data/${INITIALISED_MARKER}" ]; then exit 0; fi
find "$data" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
initdb -D "$data" -U ${SANDBOX_ADMIN_USER} --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions --no-sync >/dev/null
printf '%s\\n' "$TAIDON_POSTGRESQL_CONF" >> "$data/postgresql.conf"
printf '%s\\n' "$TAIDON_PG_HBA" > "$data/pg_hba.conf"
printf '%s\\n' "$TAIDON_SETUP_SQL" | postgres --single -j -D "$data" postgres >/dev/null
: > "$data/${INITIALISED_MARKER}"
`;

/**
 * pg_hba.conf of a sandbox in a cluster: the server listens on the Pod's address, which the NetworkPolicy opens
 * to sql-runner only; the learner without a password on the sandbox database (as on loopback locally), the
 * superuser with scram-sha-256, nothing else.
 */
export function clusterPgHbaConf(): string {
  return [
    '# TYPE  DATABASE  USER      ADDRESS   METHOD',
    `host    ${SANDBOX_DATABASE}   ${SANDBOX_USER}   all       trust`,
    `host    all       ${SANDBOX_ADMIN_USER}  all       scram-sha-256`,
    '',
  ].join('\n');
}

/**
 * A SCRAM-SHA-256 verifier of `password`, as PostgreSQL stores it: the Pod's spec carries this, never the
 * password (a verifier lets nobody log in as the client).
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** What the init container needs: the template's settings and the superuser's password verifier. */
export interface CloneInitSettings {
  template: TemplateSettings;
  adminVerifier: string;
}

/** The environment the script reads: configuration appended, pg_hba.conf, and the setup SQL (single-user mode). */
export function initCloneEnv(settings: CloneInitSettings): { name: string; value: string }[] {
  const statements = [
    `ALTER ROLE ${SANDBOX_ADMIN_USER} PASSWORD '${settings.adminVerifier.replaceAll("'", "''")}'`,
    ...setupStatements(settings.template),
  ];
  return [
    { name: 'TAIDON_POSTGRESQL_CONF', value: postgresqlConf(settings.template) },
    { name: 'TAIDON_PG_HBA', value: clusterPgHbaConf() },
    // Single-user mode with -j ends a statement at a semicolon followed by an empty line.
    { name: 'TAIDON_SETUP_SQL', value: statements.map((s) => `${s};\n`).join('\n') },
  ];
}

/** The init container of a Pod on an empty clone: the sandbox image, the main container's restrictions. */
export function initCloneContainer(input: {
  image: string;
  dataMount: string;
  settings: CloneInitSettings;
  securityContext: V1Container['securityContext'];
  resources: V1Container['resources'];
  volumeMounts: V1Container['volumeMounts'];
}): V1Container {
  return {
    name: 'init-clone',
    image: input.image,
    command: ['sh', '-c', INIT_CLONE_SCRIPT, 'init-clone', input.dataMount],
    env: initCloneEnv(input.settings),
    securityContext: input.securityContext,
    resources: input.resources,
    volumeMounts: input.volumeMounts,
  };
}
