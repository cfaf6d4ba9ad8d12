import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type PostgresServer, startPostgresServer } from '@taidon/kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The chart's migration Job (`node apps/local/dist/migrate-control-plane.js`) on
// a server of its own (the roles it makes are server-wide, so not on the run's
// shared server): from nothing to every service's schema, twice (it runs before
// every upgrade), with the audit log sealed against its own service's role.

const execFileP = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../dist/migrate-control-plane.js', import.meta.url));
const SERVICES = [
  'idp',
  'user-profile',
  'audit-log',
  'vcs-sync',
  'sql-runner',
  'env-manager',
  'snapshot-cache',
  'exercises',
];

describe('migrate-control-plane (the chart migration Job)', () => {
  let root: string;
  let server: PostgresServer;
  let env: NodeJS.ProcessEnv;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'taidon-migrate-'));
    // PostgreSQL runs as an unprivileged user when the tests run as root: it must traverse this directory.
    await chmod(root, 0o711);
    server = await startPostgresServer({ rootDir: join(root, 'pg') });
    const base = new URL(server.url);
    for (const service of SERVICES) {
      const url = new URL(base);
      url.username = `taidon_${service.replace(/-/g, '_')}`;
      url.password = `pw-${service}-${process.pid}`;
      url.pathname = '/taidon';
      urls[service] = url.toString();
    }
    env = {
      PATH: process.env.PATH,
      LOG_LEVEL: 'warn',
      CONTROL_PLANE_SUPERUSER_URL: server.url,
      ...Object.fromEntries(
        SERVICES.map((s) => [`${s.toUpperCase().replace(/-/g, '_')}_DATABASE_URL`, urls[s] as string]),
      ),
    };
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('makes the database, each role and schema, applies every migration, and can run again', async () => {
    await execFileP(process.execPath, [ENTRY], { env, timeout: 120_000 });
    await execFileP(process.execPath, [ENTRY], { env, timeout: 120_000 });
    for (const service of SERVICES) {
      const client = new pg.Client({ connectionString: urls[service] });
      await client.connect();
      try {
        const schema = service.replace(/-/g, '_');
        const { rows } = await client.query<{ tables: string }>(
          'SELECT count(*) AS tables FROM pg_tables WHERE schemaname = $1',
          [schema],
        );
        expect(Number(rows[0]?.tables), service).toBeGreaterThan(0);
        const { rows: path } = await client.query<{ search_path: string }>('SHOW search_path');
        expect(path[0]?.search_path).toBe(schema);
      } finally {
        await client.end();
      }
    }
  }, 300_000);

  it('seals the audit log: its own role may insert events but not delete them', async () => {
    const client = new pg.Client({ connectionString: urls['audit-log'] });
    await client.connect();
    try {
      const { rows } = await client.query<{ owner: string }>(
        "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'audit_log' AND tablename = 'audit_events'",
      );
      expect(rows[0]?.owner).toBe('taidon_audit_log_owner');
      await expect(client.query('DELETE FROM audit_log.audit_events')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('refuses to start without the superuser URL (exit 2, the variable named)', async () => {
    const { CONTROL_PLANE_SUPERUSER_URL: _omitted, ...rest } = env;
    const failure = await execFileP(process.execPath, [ENTRY], { env: rest, timeout: 30_000 }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('CONTROL_PLANE_SUPERUSER_URL is required');
  });
});
