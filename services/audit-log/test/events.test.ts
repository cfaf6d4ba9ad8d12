import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogUnderTest, event, startAuditLog } from './helpers.js';

describe('audit-log events', () => {
  let log: AuditLogUnderTest;
  const headers = () => ({ [SERVICE_TOKEN_HEADER]: log.serviceToken });
  const append = (events: unknown[]) =>
    log.app.inject({ method: 'POST', url: '/events', headers: headers(), payload: { events } });
  const query = (qs: string) => log.app.inject({ method: 'GET', url: `/events?${qs}`, headers: headers() });
  const verify = async () => (await log.app.inject({ method: 'GET', url: '/verify', headers: headers() })).json();

  beforeAll(async () => {
    log = await startAuditLog();
  });
  afterAll(async () => log.close());

  it('refuses callers without the service token', async () => {
    const response = await log.app.inject({ method: 'POST', url: '/events', payload: { events: [event()] } });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHORIZED');
  });

  it('appends a batch as one chain and ignores ids it already has', async () => {
    const first = [event(), event({ action: 'run' }), event({ action: 'sign-up' })];
    expect((await append(first)).json()).toEqual({ accepted: 3, duplicates: 0 });
    const again = await append([first[1], event({ action: 'sign-out' }), first[2]]);
    expect(again.json()).toEqual({ accepted: 1, duplicates: 2 });
    const { rows } = await log.pool.query('SELECT seq::int, id, prev_hash, hash FROM audit_events ORDER BY seq');
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(4);
    expect(rows[0].prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
  });

  it('keeps one chain under concurrent appends', async () => {
    const batches = Array.from({ length: 12 }, () => [event({ action: 'run' }), event({ action: 'run' })]);
    const answers = await Promise.all(batches.map(append));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, checked: 28 });
    const { rows } = await log.pool.query('SELECT count(*)::int AS n, max(seq)::int AS top FROM audit_events');
    expect(rows[0]).toEqual({ n: 28, top: 28 });
  });

  it('refuses details that name a secret or SQL, or are too large, and records nothing of the batch', async () => {
    const before = (await log.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;
    const secret = await append([event(), event({ detail: { sql: 'select 1' } })]);
    expect(secret.statusCode).toBe(422);
    expect(secret.json()).toMatchObject({ code: 'AUDIT_LOG_SECRET_IN_DETAIL', key: 'sql' });
    const nested = await append([event({ detail: { request: { headers: { cookie: 'x' } } } })]);
    expect(nested.json().code).toBe('AUDIT_LOG_SECRET_IN_DETAIL');
    const large = await append([event({ detail: { note: 'x'.repeat(3000) } })]);
    expect(large.statusCode).toBe(422);
    expect(large.json().code).toBe('AUDIT_LOG_DETAIL_TOO_LARGE');
    const bad = await append([{ ...event(), action: 'drop-table' }]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    expect((await log.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n).toBe(before);
  });

  it('answers queries by account, action and time, newest first, page by page', async () => {
    const account = randomUUID();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const mine = Array.from({ length: 5 }, (_, i) =>
      event({ accountId: account, action: i % 2 ? 'run' : 'sign-in', at: new Date(t0 + i * 60_000).toISOString() }),
    );
    await append(mine);
    const page1 = (await query(`accountId=${account}&limit=2`)).json();
    expect(page1.events.map((e: { id: string }) => e.id)).toEqual([mine[4]?.id, mine[3]?.id]);
    const page2 = (await query(`accountId=${account}&limit=2&cursor=${page1.nextCursor}`)).json();
    const page3 = (await query(`accountId=${account}&limit=2&cursor=${page2.nextCursor}`)).json();
    expect(page2.events.map((e: { id: string }) => e.id)).toEqual([mine[2]?.id, mine[1]?.id]);
    expect(page3).toMatchObject({ nextCursor: null, events: [{ id: mine[0]?.id }] });
    const runs = (await query(`accountId=${account}&action=run`)).json();
    expect(runs.events.map((e: { id: string }) => e.id)).toEqual([mine[3]?.id, mine[1]?.id]);
    const window = (
      await query(
        `accountId=${account}&from=${new Date(t0 + 60_000).toISOString()}&to=${new Date(t0 + 180_000).toISOString()}`,
      )
    ).json();
    expect(window.events.map((e: { id: string }) => e.id)).toEqual([mine[2]?.id, mine[1]?.id]);
    expect(window.events[0]).toMatchObject({ accountId: account, action: 'sign-in', seq: expect.any(String) });
    const empty = await query(`from=${new Date(t0).toISOString()}&to=${new Date(t0).toISOString()}`);
    expect(empty.statusCode).toBe(422);
    expect(empty.json().code).toBe('AUDIT_LOG_INVALID_RANGE');
  });
});
