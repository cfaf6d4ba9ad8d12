import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildApp as buildEnvManager,
  createLocalRuntime,
  createSnapshotCacheClient,
  loadEnvManagerConfig,
  migrateEnvManager,
} from '@taidon/env-manager';
import { ACCOUNT_HEADER, createPool, ROLE_HEADER, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { buildApp as buildSnapshotCache, createDriver, migrateSnapshotCache } from '@taidon/snapshot-cache';
import type pg from 'pg';
import { buildApp } from '../../src/app.js';
import { EnvManagerClient } from '../../src/clients/env-manager.js';
import { engineIdentity } from '../../src/domain/engine-info.js';
import type { RunnerDeps } from '../../src/domain/runs/context.js';
import { createRunnerDeps } from '../../src/domain/runs/deps.js';
import type { ShareSettings } from '../../src/domain/shares/shares.js';
import type { ThrowawaySettings } from '../../src/domain/throwaway/clones.js';
import { migrateSqlRunner } from '../../src/migrate.js';
import type { PlannerConfig } from '../../src/planner/index.js';

export const SERVICE_TOKEN = 'run-stack-token';

/** One NDJSON event of a run stream. */
export type Event = Record<string, any> & { type: string };

/**
 * sql-runner with its real siblings, each built by its own buildApp on a
 * loopback port: snapshot-cache (copy driver unless told, a temporary root),
 * env-manager (local runtime) and sql-runner on fresh control-plane
 * databases. No gateway: runs are sent as the gateway sends them.
 */
export interface RunStack {
  sqlRunnerUrl: string;
  envManagerUrl: string;
  /** snapshot-cache's base URL, to look at a layer (its pin) as the services see it. */
  cacheUrl: string;
  /** The runner's own dependencies (its clients, caches and pools), to look at what a run left. */
  runs: RunnerDeps;
  /** sql-runner's control-plane pool (sessions, runs). */
  pool: pg.Pool;
  /** env-manager's control-plane pool (instances). */
  envPool: pg.Pool;
  /** Stops snapshot-cache: what a run needs from it from now on fails. */
  stopSnapshotCache(): Promise<void>;
  close(): Promise<void>;
}

export async function startRunStack(
  options: {
    warmPoolEmpty?: number;
    planner?: Partial<PlannerConfig>;
    shares?: Partial<ShareSettings>;
    /** snapshot-cache's driver: copy (default), or btrfs on a loop image of its own (needs root and mkfs.btrfs). */
    driver?: 'copy' | 'btrfs';
    /** Bounds of throwaway clones (project tests, EXPLAIN); the service's defaults when not given. */
    throwaway?: Partial<ThrowawaySettings>;
    /** Bounds of a grader's clones of warm held layers (THROWAWAY_GRADER_*); the service's defaults when not given. */
    graderThrowaway?: Partial<ThrowawaySettings>;
    /** RUN_MAX_ROWS; default 100 000. */
    maxRows?: number;
    /** snapshot-cache's SNAPSHOT_CACHE_BUDGET_BYTES; default 10 GiB (a tiny one makes every eviction pass take all it may). */
    cacheBudgetBytes?: number;
  } = {},
): Promise<RunStack> {
  const root = await mkdtemp(join(tmpdir(), 'sr-runs-'));
  await chmod(root, 0o755);
  const dbs: TestDatabase[] = [];
  const pools: pg.Pool[] = [];
  const database = async (name: string) => {
    const db = await createTestDatabase(name);
    dbs.push(db);
    const pool = createPool(db.url, { applicationName: `test-${name}` });
    pools.push(pool);
    return { url: db.url, pool };
  };
  const cacheDb = await database('sr_sc');
  await migrateSnapshotCache(cacheDb.pool);
  const driver = await createDriver({
    SNAPSHOT_CACHE_ROOT: join(root, 'cache'),
    SNAPSHOT_CACHE_DRIVER: options.driver ?? 'copy',
    SNAPSHOT_CACHE_BTRFS_IMAGE: options.driver === 'btrfs' ? join(root, 'cache.img') : undefined,
    SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: 1024 ** 3,
    SNAPSHOT_CACHE_BTRFS_QUOTAS: 'off',
    SNAPSHOT_CACHE_BTRFS_IMAGE_BARRIERS: 'off',
    SNAPSHOT_CACHE_ZFS_DATASET: undefined,
    SNAPSHOT_CACHE_LVM_VG: undefined,
    SNAPSHOT_CACHE_LVM_POOL: undefined,
    SNAPSHOT_CACHE_LVM_VOLUME_BYTES: 1024 ** 3,
  });
  await driver.prepare();
  const cache = buildSnapshotCache({
    config: {
      SERVICE_TOKEN,
      SNAPSHOT_CACHE_BUDGET_BYTES: options.cacheBudgetBytes ?? 10 * 1024 ** 3,
      SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS: 86_400,
    },
    pool: cacheDb.pool,
    driver,
    logger: captureLogger('snapshot-cache').logger,
  });
  const cacheUrl = await cache.listen({ host: '127.0.0.1', port: 0 });

  const envDb = await database('sr_em');
  await migrateEnvManager(envDb.pool);
  const envConfig = loadEnvManagerConfig({
    ENV_MANAGER_DATABASE_URL: envDb.url,
    SNAPSHOT_CACHE_URL: cacheUrl,
    SERVICE_TOKEN,
    SANDBOX_ADMIN_PASSWORD: 'run-stack-admin',
    INSTANCE_RUN_DIR: join(root, 'run'),
  });
  const envLogger = captureLogger('env-manager').logger;
  const runtime = await createLocalRuntime({
    runDir: envConfig.INSTANCE_RUN_DIR,
    limits: {
      memoryMaxBytes: envConfig.INSTANCE_MEMORY_MAX_BYTES,
      pidsMax: envConfig.INSTANCE_PIDS_MAX,
      cpuMax: envConfig.INSTANCE_CPU_MAX,
    },
    logger: envLogger,
    cgroupName: `taidon-sr-test-${process.pid}`,
  });
  const envManager = buildEnvManager({
    config: envConfig,
    pool: envDb.pool,
    logger: envLogger,
    snapshotCache: createSnapshotCacheClient({ baseUrl: cacheUrl, serviceToken: SERVICE_TOKEN }),
    runtime,
    stopInstancesOnClose: true,
  });
  const envManagerUrl = await envManager.listen({ host: '127.0.0.1', port: 0 });

  const runnerDb = await database('sr_runner');
  await migrateSqlRunner(runnerDb.pool);
  const runnerConfig = {
    SERVICE_TOKEN,
    ENV_MANAGER_URL: envManagerUrl,
    SNAPSHOT_CACHE_URL: cacheUrl,
    RUN_MAX_ROWS: options.maxRows ?? 100_000,
    RUN_MAX_BYTES: 16 * 1024 ** 2,
    RUN_STATEMENT_TIMEOUT_MS: 10_000,
    RUN_LAYER_EVERY_MS: 2000,
    RUN_DATABASE_MAX_BYTES: 0,
  };
  const runs = createRunnerDeps(runnerConfig, runnerDb.pool);
  const engine = await new EnvManagerClient({
    name: 'env-manager',
    baseUrl: envManagerUrl,
    serviceToken: SERVICE_TOKEN,
    timeoutMs: 30_000,
  }).engine();
  const sqlRunner = buildApp({
    config: { ...options.planner, SERVICE_TOKEN },
    engine: engineIdentity(engine),
    logger: captureLogger('sql-runner').logger,
    runs,
    warmPoolEmpty: options.warmPoolEmpty ?? 0,
    ...(options.shares ? { shares: options.shares } : {}),
    ...(options.throwaway ? { throwaway: options.throwaway } : {}),
    ...(options.graderThrowaway ? { graderThrowaway: options.graderThrowaway } : {}),
  });
  const sqlRunnerUrl = await sqlRunner.listen({ host: '127.0.0.1', port: 0 });
  let cacheStopped = false;
  return {
    sqlRunnerUrl,
    envManagerUrl,
    cacheUrl,
    runs,
    pool: runnerDb.pool,
    envPool: envDb.pool,
    async stopSnapshotCache() {
      cacheStopped = true;
      await cache.close();
    },
    async close() {
      await sqlRunner.close();
      await envManager.close();
      if (!cacheStopped) await cache.close();
      await driver.close();
      for (const pool of pools) await pool.end();
      for (const db of dbs) await db.drop();
      if (runtime.limits.cgroupParent) await rmdir(runtime.limits.cgroupParent).catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Headers of a call from the gateway on behalf of `account` (an anonymous learner). */
export function asAccount(account: string): Record<string, string> {
  return {
    [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN,
    [ACCOUNT_HEADER]: account,
    [ROLE_HEADER]: 'anonymous',
    'content-type': 'application/json',
  };
}

/** A new account id. */
export const newAccount = (): string => randomUUID();

/** Starts a run and hands back its events as they arrive (or the problem+json answer). */
export async function startRun(
  stack: RunStack,
  account: string,
  body: Record<string, unknown>,
): Promise<{ status: number; problem?: any; next(): Promise<Event | undefined>; rest(): Promise<Event[]> }> {
  const response = await fetch(`${stack.sqlRunnerUrl}/runs`, {
    method: 'POST',
    headers: asAccount(account),
    body: JSON.stringify(body),
  });
  if (!response.headers.get('content-type')?.startsWith('application/x-ndjson')) {
    const problem = await response.json();
    return { status: response.status, problem, next: async () => undefined, rest: async () => [] };
  }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<Event | undefined> => {
    for (;;) {
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line) return JSON.parse(line) as Event;
        continue;
      }
      const chunk = await reader.read();
      if (chunk.done) return undefined;
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    next,
    async rest() {
      const events: Event[] = [];
      for (let e = await next(); e; e = await next()) events.push(e);
      return events;
    },
  };
}

/** Sends a run and reads its whole event stream. */
export async function run(stack: RunStack, account: string, body: Record<string, unknown>): Promise<Event[]> {
  const started = await startRun(stack, account, body);
  if (started.status !== 200) throw new Error(`run answered ${started.status}: ${JSON.stringify(started.problem)}`);
  return started.rest();
}

/** Rows of every `rows` event of one statement. */
export function rowsOf(events: Event[], statement = 0): (string | null)[][] {
  return events.filter((e) => e.type === 'rows' && e.statement === statement).flatMap((e) => e.rows);
}

/** The run's last event. */
export const lastOf = (events: Event[]): Event => events.at(-1) as Event;
