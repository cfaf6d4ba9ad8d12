import { fileURLToPath } from 'node:url';
import { type ConfigOf, type EnvVar, envEnum, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** The example projects shipped with the service (one folder per template). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url));

/**
 * The key remote tokens are encrypted with (AES-256-GCM): 32 bytes, base64. Optional: without it a remote
 * can be set and used without a token (public repositories), and a token is refused.
 */
function envTokenKey(doc: string): EnvVar<Buffer | undefined> {
  return {
    doc,
    secret: true,
    parse: (raw) => {
      if (raw === undefined) return undefined;
      const key = Buffer.from(raw, 'base64');
      if (key.length !== 32) throw new Error('must be 32 bytes, base64-encoded');
      return key;
    },
  };
}

/** Every environment variable vcs-sync reads. */
export const vcsSyncConfigSpec = {
  VCS_SYNC_DATABASE_URL: envUrl(
    "Connection URL of vcs-sync's own role on the control-plane PostgreSQL (schema `vcs_sync`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  VCS_SYNC_DATA_DIR: envString(
    'Directory holding every project as a Git working tree (`projects/<id>`); the all-in-one start puts it under TAIDON_DATA_DIR.',
    { default: './.taidon/projects' },
  ),
  VCS_SYNC_TEMPLATES_DIR: envString(
    'Directory of the project templates a new project can start from, one folder each (`empty` is built in).',
    { default: DEFAULT_TEMPLATES_DIR },
  ),
  USER_PROFILE_URL: envUrl("Base URL of user-profile, which holds each account's storage quota."),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  AUDIT_LOG_URL: envOptional(
    'Base URL of audit-log: project created/deleted and restore events go there through the outbox; unset, none are recorded.',
  ),
  AUDIT_OUTBOX_FILE: envString('JSONL file keeping audit events until audit-log accepts them.', {
    default: 'audit-outbox/vcs-sync.jsonl',
  }),
  VCS_SYNC_FILE_MAX_BYTES: envInt('Largest file a project may hold, in bytes (UTF-8 text).', {
    default: 1_048_576,
    min: 1,
    max: 64 * 1024 * 1024,
  }),
  VCS_SYNC_PROJECT_MAX_BYTES: envInt(
    'Largest size of one project on disk (working tree and history), in bytes; a write that would pass it is refused.',
    { default: 64 * 1024 * 1024, min: 1024, max: Number.MAX_SAFE_INTEGER },
  ),
  VCS_SYNC_PROJECT_MAX_FILES: envInt('Most files one project may hold.', { default: 2_000, min: 1, max: 1_000_000 }),
  VCS_SYNC_MAX_PROJECTS: envInt('Most projects a registered account may have.', { default: 50, min: 0, max: 100_000 }),
  VCS_SYNC_MAX_PROJECTS_ANONYMOUS: envInt('Most projects an anonymous account may have.', {
    default: 3,
    min: 0,
    max: 100_000,
  }),
  VCS_SYNC_GIT_TIMEOUT_MS: envInt('Deadline of one git command, in milliseconds; past it the command is killed.', {
    default: 15_000,
    min: 100,
    max: 600_000,
  }),
  VCS_SYNC_GIT_CONCURRENCY_PER_ACCOUNT: envInt(
    "Operations on an account's projects that run at once; more wait their turn.",
    { default: 2, min: 1, max: 64 },
  ),
  VCS_SYNC_GIT_QUEUE_PER_ACCOUNT: envInt(
    'Operations of one account that may wait for a turn; one more is refused with 429.',
    { default: 8, min: 0, max: 1_000 },
  ),
  VCS_SYNC_DIFF_MAX_BYTES: envInt('Largest diff text answered, in bytes; a longer one is cut and marked truncated.', {
    default: 1_048_576,
    min: 1024,
    max: 64 * 1024 * 1024,
  }),
  VCS_SYNC_GIT_PROCESSES_MAX: envInt(
    'git processes the whole service runs at once, every account together; more wait their turn (a bound on the machine, beside the per-account one).',
    { default: 8, min: 1, max: 256 },
  ),
  VCS_SYNC_GIT_OUTPUT_MAX_BYTES: envInt(
    'Most bytes one git command may print (stdout and stderr); past it, it is killed and the operation refused.',
    { default: 96 * 1024 * 1024, min: 64 * 1024, max: 1024 * 1024 * 1024 },
  ),
  VCS_SYNC_REMOTE_TIMEOUT_MS: envInt(
    'Deadline of one git command that talks to a remote (ls-remote, fetch, push), in milliseconds.',
    { default: 120_000, min: 100, max: 3_600_000 },
  ),
  VCS_SYNC_TOKEN_KEY: envTokenKey(
    'Key remote tokens are encrypted with at rest (AES-256-GCM), 32 bytes in base64; `npm start` generates one and keeps it in its secrets. Unset, remotes work without tokens only.',
  ),
  VCS_SYNC_ALLOW_LOOPBACK_HTTP: envEnum(
    '`true` allows plain `http` remotes on 127.0.0.1 (tests and local work); every other remote is `https`.',
    ['true', 'false'],
    { default: 'false' },
  ),
  VCS_SYNC_ALLOW_FILE_REMOTES: envEnum(
    '`true` allows `file://` remotes (a directory of this machine): for tests only, never in production.',
    ['true', 'false'],
    { default: 'false' },
  ),
  VCS_SYNC_ALLOW_PRIVATE_REMOTES: envEnum(
    '`true` allows remotes whose host is on a private network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): a company Git server inside the network needs it. Loopback, link-local (cloud metadata) and reserved addresses stay refused.',
    ['true', 'false'],
    { default: 'false' },
  ),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8087, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** vcs-sync's validated, frozen configuration. */
export type VcsSyncConfig = ConfigOf<typeof vcsSyncConfigSpec>;

/** Reads vcs-sync's configuration from the environment, reporting every bad variable at once. */
export function loadVcsSyncConfig(env: NodeJS.ProcessEnv = process.env): VcsSyncConfig {
  return loadConfig(vcsSyncConfigSpec, env);
}
