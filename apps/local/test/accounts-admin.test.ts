import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane, profile, tokenFor } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

describe('accounts through the gateway: /api/me and /api/admin', () => {
  let stack: TestStack;
  let admin: { id: string; token: string };
  let learner: { id: string; token: string };

  beforeAll(async () => {
    stack = await startTestStack();
    admin = await accountWithToken(stack, 'admin');
    learner = await accountWithToken(stack, 'learner');
  });
  afterAll(async () => stack?.close());

  it('shows the caller its account, role, quotas and usage on /api/me', async () => {
    const me = await api(stack, 'GET', '/api/me', learner.token);
    expect(me.status).toBe(200);
    expect(me.body.account).toMatchObject({ id: learner.id, role: 'learner', overrides: {} });
    const [defaults] = await controlPlane(stack, `SELECT * FROM user_profile.role_quotas WHERE role = 'learner'`);
    expect(me.body.account.quotas.runsPerMinute).toBe(defaults?.runs_per_minute);
    expect(me.body.usage).toEqual({ instances: 0, runsLastMinute: 0 });
    expect(me.body.instances).toEqual([]);
  });

  it('gives an anonymous sign-in through idp an account in user-profile with the anonymous quotas', async () => {
    const token = await stack.signIn();
    const me = await api(stack, 'GET', '/api/me', token);
    expect(me.status).toBe(200);
    expect(me.body.account).toMatchObject({ role: 'anonymous', email: null, overrides: {} });
    const [defaults] = await controlPlane(stack, `SELECT * FROM user_profile.role_quotas WHERE role = 'anonymous'`);
    expect(me.body.account.quotas).toEqual({
      instances: defaults?.instances,
      storageBytes: Number(defaults?.storage_bytes),
      runsPerMinute: defaults?.runs_per_minute,
      idleTtlSeconds: defaults?.idle_ttl_seconds,
    });
    const rows = await controlPlane(stack, 'SELECT role FROM user_profile.accounts WHERE id = $1', [
      me.body.account.id,
    ]);
    expect(rows).toEqual([{ role: 'anonymous' }]);
  });

  it('refuses a learner on every admin route with 403 problem+json, changing nothing', async () => {
    const list = await api(stack, 'GET', '/api/admin/accounts', learner.token);
    expect(list.status).toBe(403);
    expect(list.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(list.body).toMatchObject({ code: 'GATEWAY_FORBIDDEN', status: 403 });
    const patch = await api(stack, 'PATCH', `/api/admin/accounts/${learner.id}`, learner.token, { role: 'admin' });
    expect(patch.status).toBe(403);
    expect(patch.body.code).toBe('GATEWAY_FORBIDDEN');
    const rows = await controlPlane(stack, 'SELECT role FROM user_profile.accounts WHERE id = $1', [learner.id]);
    expect(rows).toEqual([{ role: 'learner' }]);
  });

  it('refuses a token that still says admin after the account was demoted', async () => {
    const former = await accountWithToken(stack, 'admin');
    expect((await api(stack, 'GET', '/api/admin/accounts', former.token)).status).toBe(200);
    await profile(stack, 'PATCH', `/accounts/${former.id}`, { role: 'learner' });
    const after = await api(stack, 'GET', '/api/admin/accounts', former.token);
    expect(after.status).toBe(403);
    expect(after.body.code).toBe('GATEWAY_FORBIDDEN');
    const stranger = await tokenFor(stack, '00000000-0000-4000-8000-000000000001', 'admin');
    expect((await api(stack, 'GET', '/api/admin/accounts', stranger)).body.code).toBe('GATEWAY_FORBIDDEN');
  });

  it('answers 401 without a token', async () => {
    const response = await api(stack, 'GET', '/api/admin/accounts', undefined);
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('UNAUTHORIZED');
  });

  it('lets an admin change a role and quota overrides, and /api/me shows them', async () => {
    const patched = await api(stack, 'PATCH', `/api/admin/accounts/${learner.id}`, admin.token, {
      role: 'instructor',
      overrides: { runsPerMinute: 3, instances: 2 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ role: 'instructor', overrides: { runsPerMinute: 3, instances: 2 } });
    const rows = await controlPlane(
      stack,
      'SELECT role, runs_per_minute_override, instances_override FROM user_profile.accounts WHERE id = $1',
      [learner.id],
    );
    expect(rows).toEqual([{ role: 'instructor', runs_per_minute_override: 3, instances_override: 2 }]);
    const me = await api(stack, 'GET', '/api/me', learner.token);
    expect(me.body.account.role).toBe('instructor');
    expect(me.body.account.overrides).toEqual({ runsPerMinute: 3, instances: 2 });
    expect(me.body.account.quotas).toMatchObject({ runsPerMinute: 3, instances: 2 });

    const unknown = await api(stack, 'PATCH', '/api/admin/accounts/00000000-0000-4000-8000-000000000002', admin.token, {
      role: 'learner',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('USER_PROFILE_ACCOUNT_NOT_FOUND');
    const invalid = await api(stack, 'PATCH', `/api/admin/accounts/${learner.id}`, admin.token, { role: 'root' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
  });

  it('lists accounts for an admin, filtered by role, page by page', async () => {
    const all = await api(stack, 'GET', '/api/admin/accounts?limit=1', admin.token);
    expect(all.status).toBe(200);
    expect(all.body.accounts).toHaveLength(1);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    const next = await api(stack, 'GET', `/api/admin/accounts?limit=1&cursor=${all.body.nextCursor}`, admin.token);
    expect(next.body.accounts[0].id).not.toBe(all.body.accounts[0].id);
    const admins = await api(stack, 'GET', '/api/admin/accounts?role=admin', admin.token);
    const ids = admins.body.accounts.map((a: { id: string }) => a.id);
    const rows = await controlPlane<{ id: string }>(
      stack,
      `SELECT id FROM user_profile.accounts WHERE role = 'admin' ORDER BY created_at, id`,
    );
    expect(ids).toEqual(rows.map((r) => r.id));
    expect(ids).toContain(admin.id);
  });
});
