import { provisionServiceDatabase, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAuditLog } from '../src/migrate.js';
import { sealAuditLog } from '../src/seal.js';
import { type AuditLogUnderTest, event, startAuditLog } from './helpers.js';

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'succeeded',
    (error: { code?: string }) => error.code,
  );

describe('audit-log append-only guarantee and hash chain', () => {
  let log: AuditLogUnderTest;
  const verify = async () =>
    (
      await log.app.inject({ method: 'GET', url: '/verify', headers: { [SERVICE_TOKEN_HEADER]: log.serviceToken } })
    ).json();

  beforeAll(async () => {
    log = await startAuditLog();
    const events = [event(), event({ action: 'run', detail: { status: 200 } }), event({ action: 'sign-out' })];
    const response = await log.app.inject({
      method: 'POST',
      url: '/events',
      headers: { [SERVICE_TOKEN_HEADER]: log.serviceToken },
      payload: { events },
    });
    expect(response.statusCode).toBe(200);
  });
  afterAll(async () => log.close());

  it("refuses UPDATE, DELETE and TRUNCATE on the service's own connection", async () => {
    expect(await code(log.pool.query(`UPDATE audit_events SET action = 'sign-up'`))).toBe('42501');
    expect(await code(log.pool.query('DELETE FROM audit_events'))).toBe('42501');
    expect(await code(log.pool.query('TRUNCATE audit_events'))).toBe('42501');
    expect((await log.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n).toBe(3);
  });

  it('leaves the service role no way to lift the guard: no trigger switch, no grant back, no drop', async () => {
    expect(await code(log.pool.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only'))).toBe(
      '42501',
    );
    // GRANT by a non-owner only warns "no privileges were granted"; what counts is that UPDATE still fails.
    await log.pool.query(`GRANT UPDATE, DELETE ON audit_events TO ${log.service.role}`);
    expect(await code(log.pool.query(`UPDATE audit_events SET action = 'sign-up'`))).toBe('42501');
    expect(await code(log.pool.query('DROP TABLE audit_events'))).toBe('42501');
    expect(await code(log.pool.query('ALTER TABLE audit_events RENAME TO gone'))).toBe('42501');
  });

  it('starts again on a sealed schema: provisioning, migrations and sealing repeat without error', async () => {
    const password = new URL(log.service.url).password;
    await provisionServiceDatabase(log.db.url, 'audit-log', decodeURIComponent(password));
    expect(await migrateAuditLog(log.pool)).toEqual([]);
    await sealAuditLog(log.db.url, log.service);
    const owner = await log.asSuperuser(
      `SELECT pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.oid = 'audit_log.audit_events'::regclass`,
    );
    expect(owner.rows).toEqual([{ owner: 'taidon_audit_log_owner' }]);
    const appended = await log.app.inject({
      method: 'POST',
      url: '/events',
      headers: { [SERVICE_TOKEN_HEADER]: log.serviceToken },
      payload: { events: [event({ action: 'sign-up' })] },
    });
    expect(appended.json()).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('verifies the chain, then names the first row a superuser altered behind the trigger', async () => {
    expect(await verify()).toMatchObject({ ok: true, checked: 4, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Even a superuser meets the trigger; tampering means switching it off on purpose.
    expect(
      await code(log.asSuperuser(`UPDATE audit_log.audit_events SET detail = '{"status": 500}' WHERE seq = 2`)),
    ).toBe('42501');
    await log.asSuperuser(`
      BEGIN;
      SET LOCAL session_replication_role = replica;
      UPDATE audit_log.audit_events SET detail = '{"status": 500}' WHERE seq = 2;
      COMMIT;`);
    const { rows } = await log.pool.query('SELECT id FROM audit_events WHERE seq = 2');
    expect(await verify()).toEqual({ ok: false, checked: 1, headHash: null, firstBadId: rows[0].id, firstBadSeq: '2' });
  });

  it('also detects a row removed from the middle of the chain', async () => {
    await log.asSuperuser(`
      BEGIN;
      SET LOCAL session_replication_role = replica;
      UPDATE audit_log.audit_events SET detail = '{"status": 200}' WHERE seq = 2;
      COMMIT;`);
    expect((await verify()).ok).toBe(true);
    await log.asSuperuser(`
      BEGIN;
      SET LOCAL session_replication_role = replica;
      DELETE FROM audit_log.audit_events WHERE seq = 2;
      COMMIT;`);
    expect(await verify()).toMatchObject({ ok: false, checked: 1, firstBadSeq: '3' });
  });
});

describe('audit-log before it is sealed', () => {
  it('still refuses UPDATE and DELETE to its role, by revoked privileges and the trigger', async () => {
    const log = await startAuditLog({ seal: false });
    try {
      await log.pool.query(
        `INSERT INTO audit_events (seq, id, at, action, prev_hash, hash) VALUES (1, gen_random_uuid(), now(), 'run', 'x', 'y')`,
      );
      expect(await code(log.pool.query(`UPDATE audit_events SET action = 'sign-up'`))).toBe('42501');
      expect(await code(log.pool.query('DELETE FROM audit_events'))).toBe('42501');
    } finally {
      await log.close();
    }
  });
});
