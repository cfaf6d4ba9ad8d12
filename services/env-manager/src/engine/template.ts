import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { postgresVersion } from '@taidon/kit';
import pg from 'pg';
import type { Runtime, StartedServer } from '../runtimes/runtime.js';

/**
 * The sandbox template: what every instance is made of before the learner's
 * first statement. Bump TEMPLATE_VERSION whenever initdb flags, role setup or
 * a setting that can change a result changes, so no layer built on the old
 * template is served for the new one (it is part of every state key).
 */
export const TEMPLATE_VERSION = 1;

/** Role the learner's SQL runs as, and the database it owns. */
export const SANDBOX_USER = 'learner';
export const SANDBOX_DATABASE = 'sandbox';
/** Superuser of every instance (scram-sha-256 on loopback only). */
export const SANDBOX_ADMIN_USER = 'postgres';

/** The knobs of the template that come from configuration. */
export interface TemplateSettings {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  tempFileLimitKb: number;
  workMemKb: number;
}

/** Settings that can change what a query answers; sql-runner puts them in its base key. */
export function resultSettings(settings: TemplateSettings): Record<string, string> {
  return {
    server_encoding: 'UTF8',
    lc_collate: 'C.UTF-8',
    lc_ctype: 'C.UTF-8',
    TimeZone: 'UTC',
    DateStyle: 'ISO, MDY',
    IntervalStyle: 'postgres',
    extra_float_digits: '1',
    default_text_search_config: 'pg_catalog.english',
    statement_timeout: `${settings.statementTimeoutMs}ms`,
    idle_in_transaction_session_timeout: `${settings.idleInTransactionTimeoutMs}ms`,
    work_mem: `${settings.workMemKb}kB`,
    temp_file_limit: `${settings.tempFileLimitKb}kB`,
  };
}

/**
 * postgresql.conf of a small, fast, disposable sandbox, appended to the one
 * initdb writes (later lines win), so every clone of every layer inherits it.
 */
export function postgresqlConf(settings: TemplateSettings): string {
  const lines: Record<string, string> = {
    listen_addresses: "'127.0.0.1'",
    max_connections: '10',
    superuser_reserved_connections: '2',
    shared_buffers: '16MB',
    // Durability against the machine's crash buys nothing here: a crashed sandbox is rebuilt from its layer.
    // Commits are synchronous all the same (one write() to the kernel each, no flush): a backend that crashes
    // loses none (and every server is started so, whatever its layer's file says: runtimes/server-args.ts).
    fsync: 'off',
    synchronous_commit: 'on',
    full_page_writes: 'off',
    wal_level: 'minimal',
    max_wal_senders: '0',
    max_wal_size: '64MB',
    min_wal_size: '32MB',
    max_worker_processes: '2',
    max_parallel_workers: '1',
    max_parallel_workers_per_gather: '1',
    max_parallel_maintenance_workers: '1',
    // No logical replication launcher: one process fewer per instance (a learner cannot subscribe anyway).
    max_logical_replication_workers: '0',
    // The background writer only writes ahead of a busy server's evictions; with nothing to do it
    // hibernates (10 s naps) instead of waking 5 times a second in each of hundreds of idle instances.
    bgwriter_lru_maxpages: '0',
    // At start the postmaster dup()s a descriptor up to this many times to count what it may open, then
    // closes them all: 2000 system calls at 1000, ~1 ms of each start. A backend of a sandbox needs far fewer.
    max_files_per_process: '128',
    // Autovacuum off: one fewer process per instance and deterministic plans between runs;
    // sandboxes are short-lived, and ANALYZE/VACUUM remain available to the learner.
    autovacuum: 'off',
    jit: 'off',
    huge_pages: 'off',
    dynamic_shared_memory_type: 'posix',
    // Synchronous I/O: no io worker processes (PostgreSQL 18 starts 3 by default).
    io_method: 'sync',
    // Superuser-only: the learner cannot lift it with SET.
    temp_file_limit: `${settings.tempFileLimitKb}kB`,
    logging_collector: 'off',
    log_destination: "'stderr'",
    log_line_prefix: "'%m [%p] '",
    log_min_messages: 'warning',
    timezone: "'UTC'",
    log_timezone: "'UTC'",
    datestyle: "'iso, mdy'",
    lc_messages: "'C.UTF-8'",
    default_text_search_config: "'pg_catalog.english'",
  };
  const body = Object.entries(lines)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  return `\n# --- taidon sandbox template v${TEMPLATE_VERSION} (later lines win) ---\n${body}\n`;
}

/**
 * pg_hba.conf: the learner without a password on loopback (a learner may
 * change their own password, and the runner must still connect; instances
 * listen on 127.0.0.1 only and, in a cluster, only sql-runner is admitted),
 * the superuser with scram-sha-256, nothing else (no Unix-socket logins).
 */
export function pgHbaConf(): string {
  return [
    '# TYPE  DATABASE  USER      ADDRESS        METHOD',
    `host    ${SANDBOX_DATABASE}   ${SANDBOX_USER}   127.0.0.1/32   trust`,
    `host    all       ${SANDBOX_ADMIN_USER}  127.0.0.1/32   scram-sha-256`,
    '',
  ].join('\n');
}

/** The SQL that makes a fresh cluster a sandbox, run once as the superuser. */
export function setupStatements(settings: TemplateSettings): string[] {
  return [
    `CREATE ROLE ${SANDBOX_USER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
    `CREATE DATABASE ${SANDBOX_DATABASE} OWNER ${SANDBOX_USER}`,
    'REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC',
    `ALTER ROLE ${SANDBOX_USER} SET statement_timeout = ${settings.statementTimeoutMs}`,
    `ALTER ROLE ${SANDBOX_USER} SET idle_in_transaction_session_timeout = ${settings.idleInTransactionTimeoutMs}`,
    `ALTER ROLE ${SANDBOX_USER} SET work_mem = '${settings.workMemKb}kB'`,
  ];
}

/** What identifies the template; equal identities give equal results for equal SQL. */
export interface EngineIdentity {
  engine: 'postgresql';
  /** Server version, e.g. "18.4". */
  version: string;
  templateVersion: number;
  database: string;
  user: string;
  settings: Record<string, string>;
}

/** The template's identity, as `GET /engine` answers it. */
export async function engineIdentity(settings: TemplateSettings): Promise<EngineIdentity> {
  return {
    engine: 'postgresql',
    version: await postgresVersion(),
    templateVersion: TEMPLATE_VERSION,
    database: SANDBOX_DATABASE,
    user: SANDBOX_USER,
    settings: resultSettings(settings),
  };
}

/**
 * Turns an empty volume into a running sandbox: initdb, the template's
 * configuration files, one start, the role and database setup. The server is
 * left running: it is the new instance.
 */
export async function initTemplate(
  runtime: Runtime,
  options: {
    instanceId: string;
    dataDir: string;
    adminPassword: string;
    settings: TemplateSettings;
    startTimeoutMs: number;
  },
): Promise<StartedServer> {
  await runtime.initdb(options.dataDir, options.adminPassword);
  const initial = await readInitialConf(options.dataDir);
  await runtime.writeDataFile(options.dataDir, 'postgresql.conf', initial + postgresqlConf(options.settings));
  await runtime.writeDataFile(options.dataDir, 'pg_hba.conf', pgHbaConf());
  const server = await runtime.start({
    instanceId: options.instanceId,
    dataDir: options.dataDir,
    timeoutMs: options.startTimeoutMs,
  });
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: SANDBOX_ADMIN_USER,
    password: options.adminPassword,
    database: 'postgres',
  });
  // A server going away (shutdown, restart) must fail the pending call, never crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    for (const sql of setupStatements(options.settings)) await client.query(sql);
    // A first connection to the sandbox database writes its relation cache init file, which the empty state's
    // layer then carries to every clone (ADR 0019): their first connections read it instead of building it.
    const learner = new pg.Client({
      host: server.host,
      port: server.port,
      user: SANDBOX_USER,
      database: SANDBOX_DATABASE,
    });
    learner.on('error', () => {});
    await learner.connect();
    await learner.end();
  } catch (error) {
    await runtime.kill(options.instanceId, server.pid);
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
  return server;
}

function readInitialConf(dataDir: string): Promise<string> {
  return readFile(join(dataDir, 'postgresql.conf'), 'utf8');
}
