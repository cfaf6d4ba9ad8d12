import { randomBytes } from 'node:crypto';
import { buildApp as buildGateway } from '@taidon/gateway';
import { buildApp as buildIdp, type IdpDeps, migrateIdp } from '@taidon/idp';
import { createPool } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { buildApp as buildSqlRunner, SANDBOX_RESULT_SETTINGS } from '@taidon/sql-runner';
import { buildApp as buildUserProfile, migrateUserProfile } from '@taidon/user-profile';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';

/** The gateway with real idp and sql-runner behind it, each built by its own buildApp on a loopback port. */
export interface TestPlatform {
  gatewayUrl: string;
  idpUrl: string;
  sqlRunnerUrl: string;
  serviceToken: string;
  idpPool: pg.Pool;
  /** user-profile's pool: where the accounts idp creates are. */
  profilePool: pg.Pool;
  sqlRunner: FastifyInstance;
  /** Every log line of every service, JSON. */
  logLines(): string[];
  close(): Promise<void>;
}

/** Starts the platform slice that exists so far, on a fresh database. */
export async function startTestPlatform(
  options: { idp?: Partial<IdpDeps['config']>; gatewayPort?: number } = {},
): Promise<TestPlatform> {
  const db: TestDatabase = await createTestDatabase('gateway');
  const serviceToken = randomBytes(24).toString('base64url');
  const idpPool = createPool(db.url, { applicationName: 'test-idp' });
  await migrateIdp(idpPool);
  // user-profile on its own database: idp creates every account there.
  const profileDb: TestDatabase = await createTestDatabase('profile');
  const profilePool = createPool(profileDb.url, { applicationName: 'test-user-profile' });
  await migrateUserProfile(profilePool);
  const logs = [captureLogger('idp'), captureLogger('sql-runner'), captureLogger('gateway')] as const;
  const profile = buildUserProfile({
    config: { SERVICE_TOKEN: serviceToken },
    pool: profilePool,
    logger: captureLogger('user-profile').logger,
  });
  const userProfileUrl = await profile.listen({ host: '127.0.0.1', port: 0 });
  const idp = buildIdp({
    config: {
      IDP_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      SERVICE_TOKEN: serviceToken,
      USER_PROFILE_URL: userProfileUrl,
      ...options.idp,
    },
    pool: idpPool,
    logger: logs[0].logger,
  });
  const idpUrl = await idp.listen({ host: '127.0.0.1', port: 0 });
  const sqlRunner = buildSqlRunner({
    config: { SERVICE_TOKEN: serviceToken },
    engine: { version: '18.4', settings: SANDBOX_RESULT_SETTINGS },
    logger: logs[1].logger,
  });
  const sqlRunnerUrl = await sqlRunner.listen({ host: '127.0.0.1', port: 0 });
  const gateway = buildGateway({
    config: {
      IDP_URL: idpUrl,
      SQL_RUNNER_URL: sqlRunnerUrl,
      SERVICE_TOKEN: serviceToken,
      ACCESS_TOKEN_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      UPSTREAM_TIMEOUT_MS: 10_000,
    },
    logger: logs[2].logger,
  });
  const gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: options.gatewayPort ?? 0 });
  return {
    gatewayUrl,
    idpUrl,
    sqlRunnerUrl,
    serviceToken,
    idpPool,
    profilePool,
    sqlRunner,
    logLines: () => logs.flatMap((l) => l.lines()),
    async close() {
      await gateway.close();
      await sqlRunner.close();
      await idp.close();
      await profile.close();
      await idpPool.end();
      await profilePool.end();
      await db.drop();
      await profileDb.drop();
    },
  };
}

/** POSTs JSON (or nothing) and returns status, headers and the parsed body. */
export async function post(
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}
