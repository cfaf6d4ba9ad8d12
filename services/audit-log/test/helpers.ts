import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@taidon/contracts';
import { createPool, provisionServiceDatabase, type ServiceDatabase } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { migrateAuditLog } from '../src/migrate.js';
import { sealAuditLog } from '../src/seal.js';

/** audit-log on a fresh database, logged in as its own role, sealed as the launcher seals it. */
export interface AuditLogUnderTest {
  app: FastifyInstance;
  db: TestDatabase;
  service: ServiceDatabase;
  /** Logged in as taidon_audit_log: what the service itself can do. */
  pool: pg.Pool;
  serviceToken: string;
  logLines(): string[];
  /** One statement as the superuser. */
  asSuperuser(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

/** Starts audit-log the way the launcher does: provision, migrate as the service role, seal as superuser. */
export async function startAuditLog(options: { seal?: boolean } = {}): Promise<AuditLogUnderTest> {
  const db = await createTestDatabase('audit');
  const service = await provisionServiceDatabase(db.url, 'audit-log', randomBytes(12).toString('hex'));
  const pool = createPool(service.url, { applicationName: 'test-audit-log' });
  await migrateAuditLog(pool);
  if (options.seal !== false) await sealAuditLog(db.url, service);
  const serviceToken = randomBytes(16).toString('hex');
  const logs = captureLogger('audit-log');
  const app = buildApp({ config: { SERVICE_TOKEN: serviceToken }, pool, logger: logs.logger });
  await app.ready();
  return {
    app,
    db,
    service,
    pool,
    serviceToken,
    logLines: logs.lines,
    async asSuperuser(sql, values = []) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return await client.query(sql, values);
      } finally {
        await client.end();
      }
    },
    async close() {
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** A valid event with fresh id and time. */
export function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return { id: randomUUID(), at: new Date().toISOString(), action: 'sign-in', ...overrides };
}
