// kit's audit sink (the outbox every service writes events through) against a real audit-log service:
// it lives with the cross-service tests, since kit itself depends on no service.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, migrateAuditLog, sealAuditLog } from '@taidon/audit-log';
import { type AuditSink, createAuditSink, createPool, provisionServiceDatabase } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const serviceToken = randomBytes(16).toString('hex');

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('audit sink (outbox) against a real audit-log', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: FastifyInstance | undefined;
  let dir: string;
  const logs = captureLogger('gateway');

  const startAuditLog = async (port = 0): Promise<string> => {
    app = buildApp({ config: { SERVICE_TOKEN: serviceToken }, pool, logger: captureLogger('audit-log').logger });
    return app.listen({ host: '127.0.0.1', port });
  };
  const stopAuditLog = async () => {
    await app?.close();
    app = undefined;
  };
  const stored = async () =>
    (await pool.query<{ id: string }>('SELECT id FROM audit_events ORDER BY seq')).rows.map((r) => r.id);
  const verify = async (url: string) =>
    (await fetch(`${url}/verify`, { headers: { 'x-taidon-service-token': serviceToken } })).json();
  const sink = (url: string | (() => string), file: string): Promise<AuditSink> =>
    createAuditSink({ url, serviceToken, outboxFile: file, logger: logs.logger, minBackoffMs: 50, maxBackoffMs: 300 });

  beforeAll(async () => {
    db = await createTestDatabase('sink');
    const service = await provisionServiceDatabase(db.url, 'audit-log', randomBytes(12).toString('hex'));
    pool = createPool(service.url, { applicationName: 'test-sink' });
    await migrateAuditLog(pool);
    await sealAuditLog(db.url, service);
    dir = await mkdtemp(join(tmpdir(), 'taidon-outbox-'));
  });
  afterAll(async () => {
    await stopAuditLog();
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps events through an outage and a restart of the caller, then drains them once, in order', async () => {
    const file = join(dir, 'restart.jsonl');
    const url = await startAuditLog();
    const port = Number(new URL(url).port);
    const first = await sink(url, file);
    const ids: string[] = [];
    const record = (s: AuditSink, action: string) => {
      const id = randomUUID();
      ids.push(id);
      expect(s.record({ id, action, accountId: randomUUID(), detail: { status: 200 } })).toBeUndefined();
    };
    for (let i = 0; i < 5; i++) record(first, 'sign-in');
    await first.flush();
    expect(await stored()).toEqual(ids);

    await stopAuditLog();
    for (let i = 0; i < 20; i++) record(first, 'run');
    await expect(first.flush()).rejects.toThrow(/unreachable/);
    expect(first.pending()).toBe(20);
    await first.close();
    const outbox = (await readFile(file, 'utf8')).trim().split('\n');
    expect(outbox.map((l) => JSON.parse(l).id)).toEqual(ids.slice(5));
    expect(await stored()).toHaveLength(5);

    // The caller starts again with the same outbox; audit-log comes back on the same port.
    const second = await sink(url, file);
    expect(second.pending()).toBe(20);
    await startAuditLog(port);
    await until(() => second.pending() === 0);
    expect(await stored()).toEqual(ids);
    expect(await verify(url)).toMatchObject({ ok: true, checked: 25 });
    expect(await readFile(file, 'utf8')).toBe('');
    await second.close();
  });

  it('drains in the background to audit-log at a new URL, and a batch sent twice is stored once', async () => {
    const file = join(dir, 'moved.jsonl');
    await stopAuditLog();
    let current = 'http://127.0.0.1:9';
    const before = (await stored()).length;
    // An outbox whose first event was already accepted (crash between send and trim).
    const resent = { id: (await stored())[0] as string, at: new Date().toISOString(), action: 'sign-in' };
    await writeFile(file, `${JSON.stringify(resent)}\n`);
    const moving = await sink(() => current, file);
    const fresh = Array.from({ length: 7 }, () => randomUUID());
    for (const id of fresh) moving.record({ id, action: 'instance-created' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(moving.pending()).toBe(8);
    current = await startAuditLog();
    await until(() => moving.pending() === 0);
    const after = await stored();
    expect(after).toHaveLength(before + 7);
    expect(after.slice(before)).toEqual(fresh);
    expect(await verify(current)).toMatchObject({ ok: true, checked: before + 7 });
    await moving.close();
  });

  it('drops an event audit-log refuses and delivers the rest of its batch', async () => {
    const file = join(dir, 'poison.jsonl');
    const url = app ? `http://127.0.0.1:${(app.server.address() as { port: number }).port}` : await startAuditLog();
    const s = await sink(url, file);
    const good = [randomUUID(), randomUUID()];
    s.record({ id: good[0], action: 'run' });
    s.record({ action: 'run', detail: { password: 'hunter2' } });
    s.record({ id: good[1], action: 'run' });
    await s.flush();
    const ids = await stored();
    expect(ids.slice(-2)).toEqual(good);
    const lines = logs.lines().join('\n');
    expect(lines).toMatch(/audit event refused, dropped/);
    expect(lines).not.toMatch(/hunter2/);
    await s.close();
  });

  it('has an event in the outbox file when record returns, and keeps every line across a rewrite', async () => {
    const file = join(dir, 'at-once.jsonl');
    const url = await startAuditLog();
    const s = await sink(url, file);
    const ids = Array.from({ length: 3 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      s.record({ id, action: 'run', accountId: randomUUID(), detail: { status: 200 } });
      // No await between the record and the read: the line was written by record itself (issue 22).
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).id)).toEqual(ids.slice(0, i + 1));
    }
    // A send rewrites the outbox (by rename) in the background; events recorded meanwhile land in the new file.
    const during = s.flush();
    const late = Array.from({ length: 5 }, () => randomUUID());
    for (const id of late) {
      s.record({ id, action: 'run', accountId: randomUUID(), detail: { status: 200 } });
      await new Promise((r) => setImmediate(r));
    }
    await during;
    await s.flush();
    expect(await readFile(file, 'utf8')).toBe('');
    const sent = new Set(await stored());
    expect([...ids, ...late].filter((id) => !sent.has(id))).toEqual([]);
    await s.close();
    await stopAuditLog();
  });

  it('gathers events recorded close together into one send', async () => {
    const file = join(dir, 'linger.jsonl');
    app = buildApp({ config: { SERVICE_TOKEN: serviceToken }, pool, logger: captureLogger('audit-log').logger });
    let sends = 0;
    app.addHook('onRequest', async (request) => {
      if (request.method === 'POST' && request.url === '/events') sends += 1;
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const s = await createAuditSink({ url, serviceToken, outboxFile: file, logger: logs.logger, lingerMs: 200 });
    const before = new Set(await stored());
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const id of ids) {
      s.record({ id, action: 'run', accountId: randomUUID(), detail: { status: 200 } });
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(async () => (await stored()).filter((id) => !before.has(id)).length === ids.length);
    expect((await stored()).filter((id) => !before.has(id))).toEqual(ids);
    expect(sends).toBe(1);
    await s.close();
    await stopAuditLog();
  });
});
