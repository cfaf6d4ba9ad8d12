import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAuditLogConfig, type StartedAuditLog, startAuditLog } from '@taidon/audit-log';
import { freePort } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadSnapshotCacheConfig, type StartedSnapshotCache, startSnapshotCache } from '@taidon/snapshot-cache';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// env-manager started as a cluster starts it (its dist/server.js, configured by its README's variables), beside
// a real audit-log and snapshot-cache started with their own start functions: the instance events it records are
// the ones the all-in-one records (issue 22: alone, it had no audit sink).

const ENTRY = fileURLToPath(new URL('../../../services/env-manager/dist/server.js', import.meta.url));
const SERVICE_TOKEN = 'alone-service-token';

describe('env-manager started alone', () => {
  let root: string;
  const dbs: TestDatabase[] = [];
  let audit: StartedAuditLog;
  let auditPool: pg.Pool;
  let cache: StartedSnapshotCache;
  let child: ChildProcess | undefined;
  let output = '';
  let url: string;

  beforeAll(async () => {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` (npm test does) first`);
    root = await mkdtemp(join(tmpdir(), 'em-alone-'));
    await chmod(root, 0o755);
    const [auditDb, cacheDb, envDb] = (await Promise.all(
      ['al', 'sc', 'em'].map((prefix) => createTestDatabase(prefix)),
    )) as [TestDatabase, TestDatabase, TestDatabase];
    dbs.push(auditDb, cacheDb, envDb);
    audit = await startAuditLog(loadAuditLogConfig({ AUDIT_LOG_DATABASE_URL: auditDb.url, SERVICE_TOKEN }), {
      logger: captureLogger('audit-log').logger,
    });
    const auditUrl = await audit.app.listen({ host: '127.0.0.1', port: 0 });
    auditPool = new pg.Pool({ connectionString: auditDb.url, max: 2 });
    cache = await startSnapshotCache(
      loadSnapshotCacheConfig({
        SNAPSHOT_CACHE_DATABASE_URL: cacheDb.url,
        SNAPSHOT_CACHE_ROOT: join(root, 'cache'),
        SNAPSHOT_CACHE_DRIVER: 'copy',
        SERVICE_TOKEN,
      }),
      { logger: captureLogger('snapshot-cache').logger },
    );
    const cacheUrl = await cache.app.listen({ host: '127.0.0.1', port: 0 });
    const port = await freePort();
    child = spawn(process.execPath, [ENTRY], {
      env: {
        PATH: process.env.PATH,
        ENV_MANAGER_DATABASE_URL: envDb.url,
        SNAPSHOT_CACHE_URL: cacheUrl,
        SERVICE_TOKEN,
        SANDBOX_ADMIN_PASSWORD: 'alone-admin-password',
        INSTANCE_RUN_DIR: join(root, 'run'),
        AUDIT_LOG_URL: auditUrl,
        AUDIT_OUTBOX_FILE: join(root, 'outbox', 'env-manager.jsonl'),
        WARM_POOL_MAX_INSTANCES: '0',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    url = `http://127.0.0.1:${port}`;
    const begin = performance.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`env-manager exited with ${child.exitCode}:\n${output}`);
      const ready = await fetch(`${url}/health/ready`).catch(() => undefined);
      if (ready?.ok) break;
      if (performance.now() - begin > 60_000) throw new Error(`env-manager not ready within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await cache?.close();
    await audit?.close();
    await auditPool?.end();
    for (const db of dbs) await db.drop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('records instance-created and instance-deleted in audit-log', async () => {
    const token = { 'x-taidon-service-token': SERVICE_TOKEN };
    const headers = { ...token, 'content-type': 'application/json' };
    const owner = '6f1c2a4e-8d0b-4c7e-9a1f-3b5d7e9f1a2c';
    const created = await fetch(`${url}/instances`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ownerId: owner, ownerRole: 'anonymous', layerKey: null }),
    });
    expect(created.status, output).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const deleted = await fetch(`${url}/instances/${id}`, {
      method: 'DELETE',
      headers: token,
    });
    expect(deleted.status).toBeLessThan(300);
    // The sink delivers in the background: wait for both rows, generously (the machine may be loaded).
    const begin = performance.now();
    let rows: { action: string; account_id: string | null }[] = [];
    while (performance.now() - begin < 20_000) {
      rows = (
        await auditPool.query<{ action: string; account_id: string | null }>(
          'SELECT action, account_id FROM audit_events WHERE target = $1 ORDER BY seq',
          [id],
        )
      ).rows;
      if (rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows).toEqual([
      { action: 'instance-created', account_id: owner },
      { action: 'instance-deleted', account_id: owner },
    ]);
  }, 90_000);

  it("records an instance-created event for each instance a batch made, with its own input's owner", async () => {
    const headers = { 'x-taidon-service-token': SERVICE_TOKEN, 'content-type': 'application/json' };
    const owners = ['0b6e5c1d-2f3a-4b8c-9d7e-1a2b3c4d5e6f', '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'];
    const batch = await fetch(`${url}/instances/batch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        instances: owners.map((ownerId) => ({ ownerId, ownerRole: 'anonymous', layerKey: null })),
      }),
    });
    expect(batch.status, output).toBe(200);
    const { answers } = (await batch.json()) as { answers: { ok: boolean; instance: { id: string } }[] };
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    const ids = answers.map((a) => a.instance.id);
    const begin = performance.now();
    let rows: { target: string; action: string; account_id: string | null }[] = [];
    while (performance.now() - begin < 20_000) {
      rows = (
        await auditPool.query<{ target: string; action: string; account_id: string | null }>(
          'SELECT target, action, account_id FROM audit_events WHERE target = ANY($1) ORDER BY seq',
          [ids],
        )
      ).rows;
      if (rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.sort((x, y) => owners.indexOf(x.account_id ?? '') - owners.indexOf(y.account_id ?? ''))).toEqual([
      { target: ids[0], action: 'instance-created', account_id: owners[0] },
      { target: ids[1], action: 'instance-created', account_id: owners[1] },
    ]);
    for (const id of ids)
      await fetch(`${url}/instances/${id}`, { method: 'DELETE', headers: { 'x-taidon-service-token': SERVICE_TOKEN } });
  }, 90_000);
});
