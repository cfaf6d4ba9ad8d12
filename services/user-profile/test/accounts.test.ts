import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProfileFixture, startProfile } from './helpers.js';

let profile: ProfileFixture;
beforeAll(async () => {
  profile = await startProfile();
});
afterAll(async () => {
  await profile?.close();
});

describe('accounts', () => {
  it('refuses callers without the service token', async () => {
    const response = await profile.app.inject({ method: 'POST', url: '/accounts', payload: { role: 'anonymous' } });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHORIZED');
  });

  it('creates an anonymous account with the small anonymous quotas and stores it in the user_profile schema', async () => {
    const created = await profile.call('POST', '/accounts', { role: 'anonymous' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'anonymous', email: null, upgradedAt: null, overrides: {} });
    expect(created.body.quotas).toEqual({
      instances: 1,
      storageBytes: 256 * 1024 * 1024,
      runsPerMinute: 60,
      idleTtlSeconds: 900,
    });
    const { rows } = await profile.pool.query(`SELECT role, current_schema() AS schema FROM accounts WHERE id = $1`, [
      created.body.id,
    ]);
    expect(rows).toEqual([{ role: 'anonymous', schema: 'user_profile' }]);
    const read = await profile.call('GET', `/accounts/${created.body.id}`);
    expect(read.body).toEqual(created.body);
  });

  it('answers 404 USER_PROFILE_ACCOUNT_NOT_FOUND for an unknown id', async () => {
    const read = await profile.call('GET', '/accounts/00000000-0000-4000-8000-000000000000');
    expect(read.status).toBe(404);
    expect(read.body.code).toBe('USER_PROFILE_ACCOUNT_NOT_FOUND');
  });

  it('upgrades an anonymous account in place to a learner with more quota', async () => {
    const { body: anonymous } = await profile.call('POST', '/accounts', { role: 'anonymous' });
    const upgraded = await profile.call('POST', `/accounts/${anonymous.id}/upgrade`, {
      email: 'Ada@Example.org',
      displayName: 'Ada',
    });
    expect(upgraded.status).toBe(200);
    expect(upgraded.body).toMatchObject({
      id: anonymous.id,
      role: 'learner',
      email: 'Ada@Example.org',
      displayName: 'Ada',
    });
    expect(Date.parse(upgraded.body.upgradedAt)).toBeGreaterThanOrEqual(Date.parse(anonymous.createdAt));
    expect(upgraded.body.quotas.instances).toBeGreaterThan(anonymous.quotas.instances);

    const again = await profile.call('POST', `/accounts/${anonymous.id}/upgrade`, { email: 'other@example.org' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('USER_PROFILE_ALREADY_REGISTERED');
    const { rows } = await profile.pool.query('SELECT email FROM accounts WHERE id = $1', [anonymous.id]);
    expect(rows[0].email).toBe('Ada@Example.org');
  });

  it('refuses an email another account has, whatever its case', async () => {
    await profile.call('POST', '/accounts', { role: 'learner', email: 'grace@example.org' });
    const { body: anonymous } = await profile.call('POST', '/accounts', { role: 'anonymous' });
    const taken = await profile.call('POST', `/accounts/${anonymous.id}/upgrade`, { email: 'GRACE@example.org' });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('USER_PROFILE_EMAIL_TAKEN');
    expect((await profile.call('GET', `/accounts/${anonymous.id}`)).body.role).toBe('anonymous');
    const duplicate = await profile.call('POST', '/accounts', { role: 'learner', email: 'Grace@Example.org' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('USER_PROFILE_EMAIL_TAKEN');
  });

  it('applies overrides over the role defaults, replaces them as a whole, and changes the role', async () => {
    const { body: account } = await profile.call('POST', '/accounts', { role: 'learner', email: 'lin@example.org' });
    const patched = await profile.call('PATCH', `/accounts/${account.id}`, {
      role: 'instructor',
      overrides: { runsPerMinute: 7, instances: 0 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.role).toBe('instructor');
    expect(patched.body.overrides).toEqual({ runsPerMinute: 7, instances: 0 });
    expect(patched.body.quotas).toMatchObject({ runsPerMinute: 7, instances: 0 });
    const quotas = await profile.call('GET', `/accounts/${account.id}/quotas`);
    expect(quotas.body).toEqual(patched.body.quotas);

    const cleared = await profile.call('PATCH', `/accounts/${account.id}`, { overrides: {} });
    expect(cleared.body.overrides).toEqual({});
    const { rows } = await profile.pool.query('SELECT * FROM role_quotas WHERE role = $1', ['instructor']);
    expect(cleared.body.quotas.runsPerMinute).toBe(rows[0].runs_per_minute);

    const bad = await profile.call('PATCH', `/accounts/${account.id}`, { overrides: { runsPerMinute: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('lists accounts by role in pages, oldest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await profile.call('POST', '/accounts', { role: 'anonymous' })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/accounts?role=anonymous&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await profile.call('GET', query);
      expect(page.status).toBe(200);
      expect(page.body.accounts.length).toBeLessThanOrEqual(2);
      for (const account of page.body.accounts) expect(account.role).toBe('anonymous');
      seen.push(...page.body.accounts.map((a: { id: string }) => a.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const { rows } = await profile.pool.query(
      `SELECT id FROM accounts WHERE role = 'anonymous' ORDER BY created_at, id`,
    );
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(seen.slice(-5)).toEqual(ids);

    const bad = await profile.call('GET', '/accounts?cursor=bm9wZQ');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('USER_PROFILE_INVALID_CURSOR');
  });
});

describe('roles', () => {
  it('publishes every role default, as seeded in role_quotas', async () => {
    const roles = await profile.call('GET', '/roles/quotas');
    expect(roles.status).toBe(200);
    expect(Object.keys(roles.body).sort()).toEqual(['admin', 'anonymous', 'instructor', 'learner']);
    expect(roles.body.anonymous.idleTtlSeconds).toBeLessThan(roles.body.learner.idleTtlSeconds);
    await profile.pool.query(`UPDATE role_quotas SET runs_per_minute = 5 WHERE role = 'learner'`);
    expect((await profile.call('GET', '/roles/quotas')).body.learner.runsPerMinute).toBe(5);
  });
});
