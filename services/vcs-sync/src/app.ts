import { type AuditSink, createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { QuotaSource } from './clients/user-profile.js';
import type { VcsSyncConfig } from './config.js';
import { AccountGate, ProjectLocks } from './domain/account-gate.js';
import { TokenSealer } from './domain/tokens.js';
import type { Workspace } from './domain/workspace.js';
import { Git, type RemotePolicy } from './git/git.js';
import { RemoteGit } from './git/remote.js';
import { createGitMetrics, exposeGitMetrics } from './metrics.js';
import { registerExerciseFileRoutes } from './routes/exercise-files.js';
import { registerFileRoutes } from './routes/files.js';
import { registerHistoryRoutes } from './routes/history.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerRemoteRoutes } from './routes/remote.js';
import { registerScriptRoutes } from './routes/scripts.js';

/** What vcs-sync needs from the outside world. */
export interface VcsSyncDeps {
  config: Pick<
    VcsSyncConfig,
    | 'SERVICE_TOKEN'
    | 'VCS_SYNC_TEMPLATES_DIR'
    | 'VCS_SYNC_FILE_MAX_BYTES'
    | 'VCS_SYNC_PROJECT_MAX_BYTES'
    | 'VCS_SYNC_PROJECT_MAX_FILES'
    | 'VCS_SYNC_MAX_PROJECTS'
    | 'VCS_SYNC_MAX_PROJECTS_ANONYMOUS'
    | 'VCS_SYNC_GIT_TIMEOUT_MS'
    | 'VCS_SYNC_GIT_CONCURRENCY_PER_ACCOUNT'
    | 'VCS_SYNC_GIT_QUEUE_PER_ACCOUNT'
    | 'VCS_SYNC_DIFF_MAX_BYTES'
    | 'VCS_SYNC_GIT_PROCESSES_MAX'
    | 'VCS_SYNC_GIT_OUTPUT_MAX_BYTES'
    | 'VCS_SYNC_REMOTE_TIMEOUT_MS'
    | 'VCS_SYNC_TOKEN_KEY'
    | 'VCS_SYNC_ALLOW_LOOPBACK_HTTP'
    | 'VCS_SYNC_ALLOW_FILE_REMOTES'
    | 'VCS_SYNC_ALLOW_PRIVATE_REMOTES'
  >;
  pool: pg.Pool;
  logger: Logger;
  /** Absolute directory of the projects (made by start): each is `<projectsDir>/<id>`. */
  projectsDir: string;
  /** Where accounts' storage quotas come from (user-profile). */
  quotas: QuotaSource;
  /** Where project created/deleted/restored events go; none, none are reported. Closed with the app. */
  audit?: AuditSink;
}

/** vcs-sync: each account's projects as Git working trees, every save a commit. */
export function buildApp(deps: VcsSyncDeps): FastifyInstance {
  const { config } = deps;
  const metrics = createGitMetrics();
  const git = new Git({
    timeoutMs: config.VCS_SYNC_GIT_TIMEOUT_MS,
    processesMax: config.VCS_SYNC_GIT_PROCESSES_MAX,
    outputMaxBytes: config.VCS_SYNC_GIT_OUTPUT_MAX_BYTES,
    homeDir: deps.projectsDir,
    metrics,
  });
  const policy: RemotePolicy = {
    allowLoopbackHttp: config.VCS_SYNC_ALLOW_LOOPBACK_HTTP === 'true',
    allowFile: config.VCS_SYNC_ALLOW_FILE_REMOTES === 'true',
    allowPrivate: config.VCS_SYNC_ALLOW_PRIVATE_REMOTES === 'true',
  };
  const ws: Workspace = {
    pool: deps.pool,
    git,
    projectsDir: deps.projectsDir,
    templatesDir: config.VCS_SYNC_TEMPLATES_DIR,
    limits: {
      fileMaxBytes: config.VCS_SYNC_FILE_MAX_BYTES,
      projectMaxBytes: config.VCS_SYNC_PROJECT_MAX_BYTES,
      projectMaxFiles: config.VCS_SYNC_PROJECT_MAX_FILES,
      maxProjects: config.VCS_SYNC_MAX_PROJECTS,
      maxProjectsAnonymous: config.VCS_SYNC_MAX_PROJECTS_ANONYMOUS,
      diffMaxBytes: config.VCS_SYNC_DIFF_MAX_BYTES,
    },
    quotas: deps.quotas,
    gate: new AccountGate(config.VCS_SYNC_GIT_CONCURRENCY_PER_ACCOUNT, config.VCS_SYNC_GIT_QUEUE_PER_ACCOUNT),
    locks: new ProjectLocks(),
    remotes: {
      git: new RemoteGit(git, policy, config.VCS_SYNC_REMOTE_TIMEOUT_MS),
      policy,
      sealer: new TokenSealer(config.VCS_SYNC_TOKEN_KEY),
    },
  };
  const app = createBaseApp({
    service: 'vcs-sync',
    logger: deps.logger,
    readiness: { database: pingPool(deps.pool) },
    // File bodies have their own route limit; JSON bodies are small.
    bodyLimitBytes: 64 * 1024,
  });
  requireServiceToken(app, config.SERVICE_TOKEN);
  exposeGitMetrics(app, metrics);
  registerProjectRoutes(app, ws, metrics, deps.audit);
  registerRemoteRoutes(app, ws, metrics, deps.audit);
  registerFileRoutes(app, ws);
  registerHistoryRoutes(app, ws, deps.audit);
  registerScriptRoutes(app, ws);
  registerExerciseFileRoutes(app, ws);
  const audit = deps.audit;
  if (audit) app.addHook('onClose', async () => audit.close());
  return app;
}
