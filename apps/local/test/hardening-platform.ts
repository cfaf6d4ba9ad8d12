import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp as buildAuditLog, migrateAuditLog, sealAuditLog } from '@taidon/audit-log';
import { buildApp as buildGateway, type GatewayDeps } from '@taidon/gateway';
import { buildApp as buildIdp, migrateIdp } from '@taidon/idp';
import { createAuditSink, createPool, provisionServiceDatabase } from '@taidon/kit';
import { captureLogger, createTestDatabase } from '@taidon/kit/testing';
import { buildApp as buildSqlRunner, SANDBOX_RESULT_SETTINGS } from '@taidon/sql-runner';
import { buildApp as buildUserProfile, migrateUserProfile } from '@taidon/user-profile';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type pg from 'pg';

/** user-profile, idp, sql-runner (plans only), audit-log and the gateway, with the gateway's protections configured by the test. */
export interface HardenedPlatform {
  gatewayUrl: string;
  auditLogUrl: string;
  serviceToken: string;
  idpPool: pg.Pool;
  auditPool: pg.Pool;
  /** Log lines of one service, or of all. */
  logLines(service?: 'gateway' | 'idp' | 'user-profile' | 'sql-runner' | 'audit-log'): string[];
  /** An access token for `sub`, signed with idp's published key exactly as idp signs one. */
  tokenFor(sub: string, role: 'anonymous' | 'learner' | 'instructor' | 'admin'): Promise<string>;
  /** Waits until the gateway's audit outbox is empty. */
  auditDrained(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the slice on a fresh database; `overrides` go into the gateway's configuration. */
export async function startHardenedPlatform(overrides: Partial<GatewayDeps['config']> = {}): Promise<HardenedPlatform> {
  const db = await createTestDatabase('harden');
  const serviceToken = randomBytes(24).toString('base64url');
  const logs = {
    idp: captureLogger('idp'),
    'user-profile': captureLogger('user-profile'),
    'sql-runner': captureLogger('sql-runner'),
    'audit-log': captureLogger('audit-log'),
    gateway: captureLogger('gateway'),
  };
  const own = (service: string) => provisionServiceDatabase(db.url, service, randomBytes(12).toString('hex'));
  const profilePool = createPool((await own('user-profile')).url, { applicationName: 'test-user-profile' });
  await migrateUserProfile(profilePool);
  const userProfile = buildUserProfile({
    config: { SERVICE_TOKEN: serviceToken },
    pool: profilePool,
    logger: logs['user-profile'].logger,
  });
  const userProfileUrl = await userProfile.listen({ host: '127.0.0.1', port: 0 });
  const idpPool = createPool((await own('idp')).url, { applicationName: 'test-idp' });
  await migrateIdp(idpPool);
  const idp = buildIdp({
    config: {
      IDP_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      SERVICE_TOKEN: serviceToken,
      USER_PROFILE_URL: userProfileUrl,
    },
    pool: idpPool,
    logger: logs.idp.logger,
  });
  const idpUrl = await idp.listen({ host: '127.0.0.1', port: 0 });
  // idp's signing key, stored where idp keeps it, so its JWKS publishes it (independent of the sign-in flows).
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await idpPool.query('INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk) VALUES ($1, $2, $3, $4)', [
    kid,
    'EdDSA',
    { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
    { ...(await exportJWK(privateKey)), kid },
  ]);
  const sqlRunner = buildSqlRunner({
    config: { SERVICE_TOKEN: serviceToken },
    engine: { version: '18.4', settings: SANDBOX_RESULT_SETTINGS },
    logger: logs['sql-runner'].logger,
  });
  const sqlRunnerUrl = await sqlRunner.listen({ host: '127.0.0.1', port: 0 });
  const auditDb = await own('audit-log');
  const auditPool = createPool(auditDb.url, { applicationName: 'test-audit-log' });
  await migrateAuditLog(auditPool);
  await sealAuditLog(db.url, auditDb);
  const auditLog = buildAuditLog({
    config: { SERVICE_TOKEN: serviceToken },
    pool: auditPool,
    logger: logs['audit-log'].logger,
  });
  const auditLogUrl = await auditLog.listen({ host: '127.0.0.1', port: 0 });
  const outboxDir = await mkdtemp(join(tmpdir(), 'taidon-gw-outbox-'));
  const audit = await createAuditSink({
    url: auditLogUrl,
    serviceToken,
    outboxFile: join(outboxDir, 'gateway.jsonl'),
    logger: logs.gateway.logger,
  });
  const gateway = buildGateway({
    config: {
      IDP_URL: idpUrl,
      SQL_RUNNER_URL: sqlRunnerUrl,
      AUDIT_LOG_URL: auditLogUrl,
      SERVICE_TOKEN: serviceToken,
      ACCESS_TOKEN_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      UPSTREAM_TIMEOUT_MS: 10_000,
      ...overrides,
    },
    logger: logs.gateway.logger,
    audit,
  });
  const gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
  return {
    gatewayUrl,
    auditLogUrl,
    serviceToken,
    idpPool,
    auditPool,
    logLines: (service) => (service ? logs[service].lines() : Object.values(logs).flatMap((l) => l.lines())),
    tokenFor: (sub, role) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .setSubject(sub)
        .setIssuer('taidon-idp')
        .setAudience('taidon')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey),
    auditDrained: () => audit.flush(),
    async close() {
      await gateway.close();
      await Promise.all([sqlRunner.close(), idp.close(), auditLog.close(), userProfile.close()]);
      await Promise.all([idpPool.end(), auditPool.end(), profilePool.end()]);
      await db.drop();
      await rm(outboxDir, { recursive: true, force: true });
    },
  };
}
