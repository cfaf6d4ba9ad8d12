import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTemplate } from '../../src/engine/template.js';
import { processTree } from '../../src/runtimes/proc.js';
import type { StartedServer } from '../../src/runtimes/runtime.js';
import { createTestRuntime, TEST_ADMIN_PASSWORD, TEST_SETTINGS } from '../helpers/runtime.js';

let env: Awaited<ReturnType<typeof createTestRuntime>>;
let server: StartedServer;
/** The databases (directories under base/) with a relation cache init file once the template is made. */
let initFilesAtStart: string[];

function connect(user: 'learner' | 'postgres', database = 'sandbox'): Promise<pg.Client> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user,
    database,
    password: user === 'postgres' ? TEST_ADMIN_PASSWORD : undefined,
  });
  return client.connect().then(() => client);
}

/** The server's background writer and WAL writer processes (under the postmaster `pid`). */
async function backgroundWriters(pid: number): Promise<{ pid: number; name: string }[]> {
  return (await processTree(pid)).flatMap((child) => {
    let name: string;
    try {
      name = readFileSync(`/proc/${child}/cmdline`, 'utf8')
        .replaceAll('\0', '')
        .replace(/^postgres: /, '')
        .trim();
    } catch {
      return []; // a backend gone meanwhile
    }
    return name === 'walwriter' || name === 'background writer' ? [{ pid: child, name }] : [];
  });
}

/** How many times the process has gone to sleep and been woken (its voluntary context switches). */
function wakeUps(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^voluntary_ctxt_switches:\s+(\d+)$/m);
  return Number(line?.[1]);
}

async function sqlstateOf(client: pg.Client, sql: string): Promise<string | undefined> {
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

beforeAll(async () => {
  env = await createTestRuntime();
  const dataDir = await env.emptyDataDir('template');
  const started = performance.now();
  // A small temp_file_limit so the limit test needs little disk.
  server = await initTemplate(env.runtime, {
    instanceId: 'template-test',
    dataDir,
    adminPassword: TEST_ADMIN_PASSWORD,
    settings: { ...TEST_SETTINGS, tempFileLimitKb: 1024, workMemKb: 64 },
    startTimeoutMs: 30_000,
  });
  console.log(`template init (initdb + start + setup): ${(performance.now() - started).toFixed(0)} ms`);
  initFilesAtStart = readdirSync(join(dataDir, 'base')).filter((oid) =>
    existsSync(join(dataDir, 'base', oid, 'pg_internal.init')),
  );
});

afterAll(async () => {
  if (server) await env.runtime.stop('template-test', server.pid);
  await env?.cleanup();
});

describe('sandbox template', () => {
  it('accepts the learner on the sandbox database, as its owner and not a superuser', async () => {
    const client = await connect('learner');
    try {
      const { rows } = await client.query(
        `SELECT current_user AS "user", current_database() AS db,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
                (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'sandbox') AS owner,
                (SELECT count(*)::int FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'learner') AS memberships,
                current_setting('statement_timeout') AS statement_timeout,
                current_setting('work_mem') AS work_mem`,
      );
      expect(rows[0]).toEqual({
        user: 'learner',
        db: 'sandbox',
        super: false,
        owner: 'learner',
        memberships: 0,
        statement_timeout: '30s',
        work_mem: '64kB',
      });
      await client.query('CREATE TABLE t (id int)');
      await client.query('INSERT INTO t VALUES (1)');
    } finally {
      await client.end();
    }
  });

  it("holds the sandbox database's relation cache init file, for the layers made from it (ADR 0019)", async () => {
    const client = await connect('learner');
    try {
      const { rows } = await client.query('SELECT oid::text FROM pg_database WHERE datname = current_database()');
      expect(initFilesAtStart).toContain(rows[0].oid);
    } finally {
      await client.end();
    }
  });

  it('starts with the settings of a cheap sandbox', async () => {
    const client = await connect('learner');
    try {
      const names = ['max_files_per_process', 'max_logical_replication_workers', 'bgwriter_lru_maxpages', 'fsync'];
      const { rows } = await client.query<{ name: string; setting: string }>(
        'SELECT name, setting FROM pg_settings WHERE name = ANY($1) ORDER BY name',
        [names],
      );
      expect(Object.fromEntries(rows.map((r) => [r.name, r.setting]))).toEqual({
        bgwriter_lru_maxpages: '0',
        fsync: 'off',
        max_files_per_process: '128',
        max_logical_replication_workers: '0',
      });
    } finally {
      await client.end();
    }
  });

  it('commits synchronously and leaves its background writers asleep after a commit (ADR 0058)', async () => {
    const client = await connect('learner');
    try {
      const { rows } = await client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings
          WHERE name IN ('bgwriter_delay', 'wal_writer_delay', 'synchronous_commit') ORDER BY name`,
      );
      expect(rows).toEqual([
        { name: 'bgwriter_delay', setting: '10000' },
        { name: 'synchronous_commit', setting: 'on' },
        { name: 'wal_writer_delay', setting: '10000' },
      ]);
      const writers = await backgroundWriters(server.pid);
      expect(writers.map((w) => w.name).sort()).toEqual(['background writer', 'walwriter']);
      // A learner may make their commits asynchronous: such a commit nudges the WAL writer once; then both sleep.
      await client.query('SET synchronous_commit = off');
      await client.query('CREATE TEMP TABLE nudge AS SELECT 1 AS x');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = writers.map((w) => wakeUps(w.pid));
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const woken = writers.map((w, i) => wakeUps(w.pid) - (before[i] ?? 0));
      // At the default 200 ms the WAL writer woke 15 times in these 3 s.
      for (const n of woken) expect(n).toBeLessThanOrEqual(2);
    } finally {
      await client.end();
    }
  });

  it('refuses the learner on the postgres database', async () => {
    await expect(connect('learner', 'postgres')).rejects.toMatchObject({ code: '28000' });
  });

  it.each([
    ["COPY t TO PROGRAM 'id'", ['42501']],
    ["SELECT pg_read_file('/etc/passwd')", ['42501']],
    ["SELECT lo_import('/etc/passwd')", ['42501']],
    ["ALTER SYSTEM SET work_mem = '1GB'", ['42501']],
    ['CREATE ROLE x SUPERUSER', ['42501']],
    ['CREATE EXTENSION plpython3u', ['42501', '58P01']],
    ['CREATE LANGUAGE plpython3u', ['42501', '58P01']],
    ['CREATE EXTENSION plperlu', ['42501', '58P01']],
    ['SET ROLE postgres', ['42501']],
    ["LOAD 'auto_explain'", ['42501']],
    ['SET temp_file_limit = -1', ['42501']],
    ["COPY t FROM '/etc/passwd'", ['42501']],
  ])('refuses the learner: %s', async (sql, codes) => {
    const client = await connect('learner');
    try {
      expect(codes).toContain(await sqlstateOf(client, sql));
    } finally {
      await client.end();
    }
  });

  it('refuses the learner terminating an admin session', async () => {
    const admin = await connect('postgres', 'postgres');
    const client = await connect('learner');
    try {
      const pid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      expect(await sqlstateOf(client, `SELECT pg_terminate_backend(${pid})`)).toBe('42501');
      expect((await admin.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    } finally {
      await client.end();
      await admin.end();
    }
  });

  it('ends a long statement with 57014 when the role statement_timeout is reached', async () => {
    const admin = await connect('postgres', 'postgres');
    await admin.query(`ALTER ROLE learner SET statement_timeout = '200ms'`);
    const client = await connect('learner');
    try {
      const started = Date.now();
      expect(await sqlstateOf(client, 'SELECT pg_sleep(10)')).toBe('57014');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await client.end();
      await admin.query('ALTER ROLE learner SET statement_timeout = 30000');
      await admin.end();
    }
  });

  it('fails a query spilling past temp_file_limit with 53400', async () => {
    const client = await connect('learner');
    try {
      const sql = 'SELECT count(*) FROM (SELECT g, md5(g::text) FROM generate_series(1, 200000) g ORDER BY 2) s';
      expect(await sqlstateOf(client, sql)).toBe('53400');
    } finally {
      await client.end();
    }
  });

  it('keeps the superuser out of reach without its password and off the Unix socket', async () => {
    await expect(
      new pg.Client({ host: server.host, port: server.port, user: 'postgres', password: 'wrong' }).connect(),
    ).rejects.toMatchObject({ code: '28P01' });
    const socket = new pg.Client({
      host: join(env.root, 'run', 'template-test'),
      port: server.port,
      user: 'postgres',
      password: TEST_ADMIN_PASSWORD,
    });
    await expect(socket.connect()).rejects.toMatchObject({ code: '28000' });
  });
});
