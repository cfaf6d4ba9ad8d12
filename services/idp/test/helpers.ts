import { randomBytes } from 'node:crypto';
import { createPool, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { buildApp as buildUserProfile, migrateUserProfile } from '@taidon/user-profile';
import type pg from 'pg';
import { buildApp as buildIdp, type IdpDeps } from '../src/app.js';
import { migrateIdp } from '../src/migrate.js';

/** idp and the real user-profile behind it, each on its own fresh database and a loopback port. */
export interface IdpHarness {
  idpUrl: string;
  userProfileUrl: string;
  serviceToken: string;
  idpPool: pg.Pool;
  profilePool: pg.Pool;
  /** Every log line of both services. */
  logLines(): string[];
  /** Calls idp as the gateway does (service token, JSON). */
  call(
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/** Starts user-profile and idp; `config` overrides idp's settings (limits, OIDC, TTLs). */
export async function startIdp(config: Partial<IdpDeps['config']> = {}): Promise<IdpHarness> {
  const databases: TestDatabase[] = [await createTestDatabase('idp'), await createTestDatabase('profile')];
  const [idpDb, profileDb] = databases as [TestDatabase, TestDatabase];
  const serviceToken = randomBytes(24).toString('base64url');
  const profilePool = createPool(profileDb.url, { applicationName: 'test-user-profile' });
  await migrateUserProfile(profilePool);
  const logs = [captureLogger('user-profile'), captureLogger('idp')] as const;
  const profile = buildUserProfile({
    config: { SERVICE_TOKEN: serviceToken },
    pool: profilePool,
    logger: logs[0].logger,
  });
  const userProfileUrl = await profile.listen({ host: '127.0.0.1', port: 0 });
  const idpPool = createPool(idpDb.url, { applicationName: 'test-idp' });
  await migrateIdp(idpPool);
  const idp = buildIdp({
    config: {
      IDP_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      SERVICE_TOKEN: serviceToken,
      USER_PROFILE_URL: userProfileUrl,
      ...config,
    },
    pool: idpPool,
    logger: logs[1].logger,
  });
  const idpUrl = await idp.listen({ host: '127.0.0.1', port: 0 });
  return {
    idpUrl,
    userProfileUrl,
    serviceToken,
    idpPool,
    profilePool,
    logLines: () => logs.flatMap((l) => l.lines()),
    async call(path, body, headers = {}) {
      const response = await fetch(`${idpUrl}${path}`, {
        method: 'POST',
        headers: {
          [SERVICE_TOKEN_HEADER]: serviceToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await idp.close();
      await profile.close();
      await idpPool.end();
      await profilePool.end();
      for (const db of databases) await db.drop();
    },
  };
}

/** Asserts-friendly view of the secrets that must never reach a log line. */
export function leakedSecrets(lines: string[], secrets: string[]): string[] {
  return secrets.filter((secret) => secret.length >= 8 && lines.some((line) => line.includes(secret)));
}
