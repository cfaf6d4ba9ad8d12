import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';
import { DEFAULT_PLAN_LIMITS } from './domain/chain/limits.js';

/** Every environment variable sql-runner reads. */
export const sqlRunnerConfigSpec = {
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  SQL_RUNNER_ENGINE_VERSION: envOptional(
    'PostgreSQL version of the sandbox engine, part of every state key (K0). Default: the version of the bundled `postgres` binary.',
  ),
  SQL_RUNNER_DATABASE_URL: envUrl(
    "Connection URL of sql-runner's own role on the control-plane PostgreSQL (schema `sql_runner`).",
    {
      secret: true,
      protocols: ['postgres:', 'postgresql:'],
    },
  ),
  ENV_MANAGER_URL: envUrl('Base URL of env-manager (sandbox instances).'),
  SNAPSHOT_CACHE_URL: envUrl('Base URL of snapshot-cache (cached layers).'),
  USER_PROFILE_URL: envOptional(
    'Base URL of user-profile, where account quotas come from; unset, no run-rate or instance quota is enforced.',
  ),
  VCS_SYNC_URL: envOptional(
    'Base URL of vcs-sync, where the scripts of project tails (`{ project, ref? }`) are read; unset, such a tail answers 503 SQL_RUNNER_PROJECTS_UNAVAILABLE.',
  ),
  RUN_MAX_ROWS: envInt('Rows of one result set sent to the learner before it is truncated.', {
    default: 100_000,
    min: 1,
    max: 10_000_000,
  }),
  RUN_MAX_BYTES: envInt('Bytes of values of one result set sent before it is truncated.', {
    default: 16 * 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
  }),
  RUN_DATABASE_MAX_BYTES: envInt(
    'Size a sandbox database may reach: a statement that grows it further is cancelled with SQLSTATE 53100 (0: no cap).',
    { default: 1024 ** 3, min: 0 },
  ),
  RUN_STATEMENT_TIMEOUT_MS: envInt(
    'Wall-clock bound of one statement; the runner cancels it itself, whatever statement_timeout the learner set.',
    { default: 30_000, min: 100, max: 3_600_000 },
  ),
  RUN_LAYER_EVERY_MS: envInt('During a replay, take a layer once this much time passed since the last one.', {
    default: 2_000,
    min: 0,
    max: 3_600_000,
  }),
  RUN_WARM_POOL_EMPTY: envInt(
    'Started instances of the empty database (K0) env-manager keeps ready, so a first run takes one instead of starting one.',
    { default: 2, min: 0, max: 100 },
  ),
  RUN_MAX_OPEN_PER_ACCOUNT: envInt(
    'Runs one account may have open at once, on all replicas (an account whose `instances` quota is larger may have that many); past it 429 SQL_RUNNER_OPEN_RUNS_EXCEEDED with Retry-After. A run whose stream is not being read is open. Enforced with the quotas (USER_PROFILE_URL set).',
    { default: 4, min: 1, max: 1_000 },
  ),
  THROWAWAY_MAX_PER_ACCOUNT: envInt(
    'Throwaway clones (project tests, EXPLAIN; ADR 0031) one account may hold at once on this runner; a request that finds none free is refused with 429 SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY and Retry-After.',
    { default: 2, min: 1, max: 1_000 },
  ),
  THROWAWAY_MAX: envInt(
    'Throwaway clones this runner holds at once for all accounts; a request that finds none free is refused with 503 SQL_RUNNER_THROWAWAY_BUSY and Retry-After.',
    { default: 8, min: 1, max: 10_000 },
  ),
  THROWAWAY_GRADER_MAX_PER_ACCOUNT: envInt(
    "Throwaway clones one account's grading may hold at once on this runner for layers published exercises hold warm (ADR 0044), counted apart from THROWAWAY_MAX_PER_ACCOUNT so an attempt's states are graded in one round; past it 429 SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY. An account then has at most twice the sum of both bounds alive (in use, and being deleted).",
    { default: 4, min: 1, max: 1_000 },
  ),
  THROWAWAY_GRADER_MAX: envInt(
    'Grading clones of warm held layers this runner holds at once for all accounts (apart from THROWAWAY_MAX); past it 503 SQL_RUNNER_THROWAWAY_BUSY.',
    { default: 8, min: 1, max: 10_000 },
  ),
  THROWAWAY_GRADER_DELETE_DELAY_MS: envInt(
    "Milliseconds a grader's clone of a layer held warm waits after its entry before it is deleted (counted as being deleted meanwhile), so its server's stop does not compete with the attempt's other entries still running (ADR 0044). 0: deleted at once.",
    { default: 50, min: 0, max: 10_000 },
  ),
  THROWAWAY_USE_MAX_MS: envInt(
    "Milliseconds one use of a throwaway clone (a project's test file, a grader's entry) may run in all, whatever its statements' own limits; past it the statement running is cancelled and the file or entry fails with SQL_RUNNER_THROWAWAY_USE_TIMEOUT. Keep it well under env-manager's INSTANCE_THROWAWAY_TTL_SECONDS.",
    { default: 120_000, min: 1_000, max: 3_600_000 },
  ),
  THROWAWAY_WARM_MAX: envInt(
    "Started instances env-manager keeps ready, in all, for the layers published exercises hold (their start state and hidden datasets), which graders' throwaway clones take instead of starting one; each costs an idle PostgreSQL server's memory (ADR 0044). Keep it under env-manager's WARM_POOL_MAX_INSTANCES with the other pools' demand.",
    { default: 8, min: 0, max: 1_000 },
  ),
  THROWAWAY_WARM_PER_KEY_MAX: envInt(
    'Started instances one held layer may get, however many publications hold it and however often it is graded (a popular exercise earns one more per 20 uses a minute).',
    { default: 4, min: 0, max: 100 },
  ),
  TESTS_CONCURRENCY: envInt(
    "Files of one project's tests run at once, each on its own throwaway clone (bounded by THROWAWAY_MAX_PER_ACCOUNT too).",
    { default: 2, min: 1, max: 100 },
  ),
  SHARE_TTL_SECONDS: envInt(
    'How long a share link lives after it is made; an expired link answers 404 and the sweep unpins its layer. Default 30 days.',
    { default: 30 * 86_400, min: 1, max: 10 * 365 * 86_400 },
  ),
  SHARE_MAX_PER_ACCOUNT: envInt(
    'Live share links one registered account may hold; past it 429 SQL_RUNNER_SHARE_LIMIT_EXCEEDED.',
    { default: 100, min: 0, max: 1_000_000 },
  ),
  SHARE_MAX_PER_ANONYMOUS: envInt(
    'Live share links one anonymous account may hold (anyone can make such accounts, so fewer); past it 429 SQL_RUNNER_SHARE_LIMIT_EXCEEDED.',
    { default: 10, min: 0, max: 1_000_000 },
  ),
  SHARE_MAX_CHARS_PER_ACCOUNT: envInt(
    "Characters of tails and heads one account's live share links may hold together; past it 429 SQL_RUNNER_SHARE_LIMIT_EXCEEDED.",
    { default: 64 * 1024 * 1024, min: 1024, max: 16 * 1024 * 1024 * 1024 },
  ),
  SHARE_CREATE_PER_MINUTE: envInt(
    'Share links one account may make per minute (revoked ones count); past it 429 SQL_RUNNER_SHARE_RATE_EXCEEDED with Retry-After.',
    { default: 10, min: 1, max: 100_000 },
  ),
  SHARE_SWEEP_INTERVAL_MS: envInt(
    'How often expired share links are unpinned, layers built for new links pinned, and long-dead links deleted; 0: never.',
    { default: 60_000, min: 0, max: 86_400_000 },
  ),
  PLAN_WORKERS: envInt(
    'Worker threads that plan chains (split, parse, key user SQL), so that planning never holds the event loop.',
    { default: 2, min: 1, max: 64 },
  ),
  PLAN_TIMEOUT_MS: envInt(
    'Time one plan may take in its worker; past it the worker is stopped and replaced, and the request answered 422 SQL_RUNNER_PLAN_LIMIT_EXCEEDED (limit timeMs).',
    { default: 30_000, min: 100, max: 600_000 },
  ),
  PLAN_QUEUE_MAX: envInt(
    'Plans waiting for a worker, from all accounts; past it a plan is answered 503 SQL_RUNNER_PLANNER_BUSY with Retry-After.',
    { default: 64, min: 1, max: 10_000 },
  ),
  PLAN_QUEUE_PER_ACCOUNT: envInt(
    'Plans one account may have waiting or planning (one plans at a time); past it 429 SQL_RUNNER_PLANNER_ACCOUNT_BUSY with Retry-After.',
    { default: 4, min: 1, max: 1_000 },
  ),
  PLAN_QUEUE_MAX_CHARS: envInt(
    'Characters of SQL that waiting and running plans may hold together, from all accounts (their copies in memory are the cost); past it a plan is answered 503 SQL_RUNNER_PLANNER_BUSY with Retry-After. A pool with nothing queued takes any one plan the body limits allow.',
    { default: 128 * 1024 * 1024, min: 1024 * 1024, max: 4 * 1024 * 1024 * 1024 },
  ),
  PLAN_CACHE_ENTRIES: envInt(
    'Plans kept for identical texts (the same exercise tail from every learner is planned once); requests for a text being planned wait for that plan instead of queuing another. 0 turns the cache off.',
    { default: 2_000, min: 0, max: 1_000_000 },
  ),
  PLAN_CACHE_MAX_BYTES: envInt(
    'Estimated memory of the plans kept, all together; the least recently used go first, and one plan larger than an eighth of it is not kept.',
    { default: 64 * 1024 * 1024, min: 1024 * 1024, max: 4 * 1024 * 1024 * 1024 },
  ),
  PLAN_WORKER_MEMORY_MB: envInt(
    "V8 heap of one planner worker, in MB; a plan that needs more kills its worker, not the process (422, limit memoryMb). The parser's WASM heap (up to 1 GiB) comes on top.",
    { default: 1024, min: 64, max: 16_384 },
  ),
  PLAN_MAX_STEPS: envInt('Steps (statements and \\echo) one chain may have (422, limit steps).', {
    default: DEFAULT_PLAN_LIMITS.maxSteps,
    min: 1,
    max: 10_000_000,
  }),
  PLAN_MAX_CHARS: envInt(
    'Characters one chain may expand to: each file run, each include every time it is followed, each substituted variable value every time (422, limit chars).',
    { default: DEFAULT_PLAN_LIMITS.maxChars, min: 1024, max: 1024 * 1024 * 1024 },
  ),
  PLAN_MAX_INCLUDES: envInt(
    'Includes (\\i, \\ir) one chain may follow, each counted every time it is followed (422, limit includes).',
    { default: DEFAULT_PLAN_LIMITS.maxIncludes, min: 0, max: 10_000_000 },
  ),
  PLAN_MAX_INCLUDE_DEPTH: envInt('Nesting of includes (422 SQL_RUNNER_INCLUDE_TOO_DEEP).', {
    default: DEFAULT_PLAN_LIMITS.maxIncludeDepth,
    min: 1,
    max: 1_000,
  }),
  PLAN_MAX_VARIABLE_CHARS: envInt('Characters of one \\set value (422, limit variableChars).', {
    default: DEFAULT_PLAN_LIMITS.maxVariableChars,
    min: 1,
    max: 1024 * 1024 * 1024,
  }),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8082, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** sql-runner's validated, frozen configuration. */
export type SqlRunnerConfig = ConfigOf<typeof sqlRunnerConfigSpec>;

/** Reads sql-runner's configuration from the environment, reporting every bad variable at once. */
export function loadSqlRunnerConfig(env: NodeJS.ProcessEnv = process.env): SqlRunnerConfig {
  return loadConfig(sqlRunnerConfigSpec, env);
}
