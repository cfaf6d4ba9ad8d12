import { loadIdpConfig, type StartedIdp, startIdp } from '@taidon/idp';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadUserProfileConfig, type StartedUserProfile, startUserProfile } from '@taidon/user-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../src/launcher/admin.js';

// The operator's admin of `npm start` (TAIDON_ADMIN_EMAIL, TAIDON_ADMIN_PASSWORD), made by the launcher's
// ensureAdmin against real idp and user-profile, each started with its own start function.

const SERVICE_TOKEN = 'launcher-admin-service-token';
const PASSWORD = 'operator-password-1234';

describe('ensureAdmin (TAIDON_ADMIN_EMAIL, TAIDON_ADMIN_PASSWORD)', () => {
  const dbs: TestDatabase[] = [];
  let profile: StartedUserProfile;
  let idp: StartedIdp;
  let idpUrl: string;
  let profileUrl: string;
  const logs = captureLogger('launcher');
  const endpoints = () => ({
    idp: { name: 'idp', baseUrl: idpUrl, serviceToken: SERVICE_TOKEN, timeoutMs: 30_000 },
    userProfile: { name: 'user-profile', baseUrl: profileUrl, serviceToken: SERVICE_TOKEN, timeoutMs: 30_000 },
  });
  const auth = async (path: string, email: string, password: string) => {
    const answer = await fetch(`${idpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-taidon-service-token': SERVICE_TOKEN },
      body: JSON.stringify({ email, password }),
    });
    return { status: answer.status, body: (await answer.json()) as { accountId?: string; role?: string } };
  };
  const roleOf = async (id: string) =>
    (
      (await (
        await fetch(`${profileUrl}/accounts/${id}`, { headers: { 'x-taidon-service-token': SERVICE_TOKEN } })
      ).json()) as { role: string }
    ).role;

  beforeAll(async () => {
    const [idpDb, profileDb] = (await Promise.all(['li', 'lp'].map((p) => createTestDatabase(p)))) as [
      TestDatabase,
      TestDatabase,
    ];
    dbs.push(idpDb, profileDb);
    profile = await startUserProfile(
      loadUserProfileConfig({ USER_PROFILE_DATABASE_URL: profileDb.url, SERVICE_TOKEN }),
      { logger: captureLogger('user-profile').logger },
    );
    profileUrl = await profile.app.listen({ host: '127.0.0.1', port: 0 });
    idp = await startIdp(loadIdpConfig({ IDP_DATABASE_URL: idpDb.url, USER_PROFILE_URL: profileUrl, SERVICE_TOKEN }), {
      logger: captureLogger('idp').logger,
    });
    idpUrl = await idp.app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await idp?.close();
    await profile?.close();
    for (const db of dbs) await db.drop();
  });

  it('signs the operator up and makes the account admin; the password signs in; a second start changes nothing', async () => {
    const email = 'operator@example.org';
    expect(await ensureAdmin(endpoints(), { email, password: PASSWORD }, logs.logger)).toBe('created');
    const signedIn = await auth('/auth/login', email, PASSWORD);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.role).toBe('admin');
    expect(await roleOf(signedIn.body.accountId as string)).toBe('admin');
    expect(await ensureAdmin(endpoints(), { email, password: PASSWORD }, logs.logger)).toBe('already-admin');
    expect(logs.lines().filter((l) => l.includes('made admin by TAIDON_ADMIN_EMAIL'))).toHaveLength(1);
  });

  it('makes admin an account already there only if the password signs it in: a stranger who took the address gets nothing', async () => {
    const taken = 'taken@example.org';
    const stranger = await auth('/auth/signup', taken, 'stranger-password-5678');
    expect(stranger.status).toBe(201);
    expect(await ensureAdmin(endpoints(), { email: taken, password: PASSWORD }, logs.logger)).toBe('refused');
    expect(await roleOf(stranger.body.accountId as string)).toBe('learner');
    expect(logs.lines().join('\n')).toContain('TAIDON_ADMIN_PASSWORD does not sign in');

    const own = 'mine@example.org';
    const signedUp = await auth('/auth/signup', own, PASSWORD);
    expect(await roleOf(signedUp.body.accountId as string)).toBe('learner');
    expect(await ensureAdmin(endpoints(), { email: own, password: PASSWORD }, logs.logger)).toBe('promoted');
    expect(await roleOf(signedUp.body.accountId as string)).toBe('admin');
  });
});
