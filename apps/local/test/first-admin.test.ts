import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuditLogConfig, type StartedAuditLog, startAuditLog } from '@taidon/audit-log';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadUserProfileConfig, type StartedUserProfile, startUserProfile } from '@taidon/user-profile';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// How a platform gets its first admin: user-profile started with USER_PROFILE_ADMIN_EMAILS promotes the listed
// accounts that exist at that start and whose email an identity provider verified (idp passes OIDC's
// email_verified on), and audit-log (real, started with its own start function) records it. A password
// sign-up's email is never verified: whoever signed up first with a listed address would have become admin.

const SERVICE_TOKEN = 'first-admin-service-token';

describe('USER_PROFILE_ADMIN_EMAILS', () => {
  let root: string;
  const dbs: TestDatabase[] = [];
  let audit: StartedAuditLog;
  let auditUrl: string;
  let auditPool: pg.Pool;
  let profileDb: TestDatabase;
  let profile: StartedUserProfile | undefined;
  const logs = captureLogger('user-profile');

  const start = async (adminEmails?: string) => {
    await profile?.close();
    profile = await startUserProfile(
      loadUserProfileConfig({
        USER_PROFILE_DATABASE_URL: profileDb.url,
        SERVICE_TOKEN,
        AUDIT_LOG_URL: auditUrl,
        AUDIT_OUTBOX_FILE: join(root, 'outbox', 'user-profile.jsonl'),
        ...(adminEmails ? { USER_PROFILE_ADMIN_EMAILS: adminEmails } : {}),
      }),
      { logger: logs.logger },
    );
    return profile.app;
  };
  const createAccount = async (body: Record<string, unknown>): Promise<string> => {
    const answer = await (profile as StartedUserProfile).app.inject({
      method: 'POST',
      url: '/accounts',
      headers: { 'x-taidon-service-token': SERVICE_TOKEN },
      payload: body,
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json().id as string;
  };
  const roleOf = async (id: string): Promise<string> => {
    const answer = await (profile as StartedUserProfile).app.inject({
      method: 'GET',
      url: `/accounts/${id}`,
      headers: { 'x-taidon-service-token': SERVICE_TOKEN },
    });
    return answer.json().role as string;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'first-admin-'));
    const [auditDb, userDb] = (await Promise.all(['al', 'up'].map((p) => createTestDatabase(p)))) as [
      TestDatabase,
      TestDatabase,
    ];
    dbs.push(auditDb, userDb);
    profileDb = userDb;
    audit = await startAuditLog(loadAuditLogConfig({ AUDIT_LOG_DATABASE_URL: auditDb.url, SERVICE_TOKEN }), {
      logger: captureLogger('audit-log').logger,
    });
    auditUrl = await audit.app.listen({ host: '127.0.0.1', port: 0 });
    auditPool = new pg.Pool({ connectionString: auditDb.url, max: 2 });
  }, 60_000);

  afterAll(async () => {
    await profile?.close();
    await audit?.close();
    await auditPool?.end();
    for (const db of dbs) await db.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('never makes admin a listed email nobody verified (a password sign-up), even while there is no admin', async () => {
    await start();
    // As idp creates a password sign-up: no emailVerified.
    const squatter = await createAccount({ role: 'learner', email: 'owner@example.org' });
    const upgraded = await createAccount({ role: 'anonymous' });
    const upgrade = await (profile as StartedUserProfile).app.inject({
      method: 'POST',
      url: `/accounts/${upgraded}/upgrade`,
      headers: { 'x-taidon-service-token': SERVICE_TOKEN },
      payload: { email: 'owner2@example.org' },
    });
    expect(upgrade.statusCode, upgrade.body).toBe(200);

    await start('owner@example.org, owner2@example.org');
    expect(await roleOf(squatter)).toBe('learner');
    expect(await roleOf(upgraded)).toBe('learner');
    const client = new pg.Client({ connectionString: profileDb.url });
    await client.connect();
    const admins = await client.query("SELECT email FROM accounts WHERE role = 'admin'").finally(() => client.end());
    expect(admins.rows).toEqual([]);
  }, 60_000);

  it('makes the listed verified accounts admin at start while there is no admin, audited, and never a later sign-up', async () => {
    await start();
    // As idp creates an account from an OIDC sign-in whose provider said email_verified: true.
    const operator = await createAccount({ role: 'learner', email: 'Operator@Example.org', emailVerified: true });
    const other = await createAccount({ role: 'learner', email: 'someone@example.org', emailVerified: true });
    const anonymous = await createAccount({ role: 'anonymous' });
    expect(await roleOf(operator)).toBe('learner');

    // Listed in another case, beside an email nobody has yet.
    await start(' operator@example.org , later@example.org');
    expect(await roleOf(operator)).toBe('admin');
    expect(await roleOf(other)).toBe('learner');
    expect(await roleOf(anonymous)).toBe('anonymous');
    const promotedLines = logs
      .lines()
      .map((line) => JSON.parse(line) as { msg?: string; accountId?: string })
      .filter((line) => line.msg === 'made admin by USER_PROFILE_ADMIN_EMAILS');
    expect(promotedLines.map((line) => line.accountId)).toEqual([operator]);

    // A stranger who signs up with a listed email after that start is a learner, and stays one (verified or not).
    const stranger = await createAccount({ role: 'learner', email: 'later@example.org', emailVerified: true });
    expect(await roleOf(stranger)).toBe('learner');

    // The promotion reached audit-log (the sink sends in the background: wait, generously).
    const begin = performance.now();
    let rows: { account_id: string; target: string; detail: Record<string, unknown> }[] = [];
    while (performance.now() - begin < 20_000) {
      rows = (
        await auditPool.query("SELECT account_id, target, detail FROM audit_events WHERE action = 'role-changed'")
      ).rows;
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows).toEqual([
      {
        account_id: operator,
        target: 'USER_PROFILE_ADMIN_EMAILS',
        detail: { role: 'admin', previousRole: 'learner', by: 'configuration' },
      },
    ]);

    // The list left in the configuration: at the next start an admin exists, so the stranger's sign-up with a
    // listed email still gains nothing.
    await start('operator@example.org, later@example.org');
    expect(await roleOf(stranger)).toBe('learner');
    const again = await auditPool.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'role-changed'");
    expect(again.rows[0].n).toBe(1);
  }, 60_000);
});
