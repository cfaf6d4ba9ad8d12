import { createPool, provisionServiceDatabase, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { buildApp } from '../src/app.js';
import { migrateUserProfile } from '../src/migrate.js';

/** user-profile on a fresh database, logged in as its own role on its own schema, as in production. */
export interface ProfileFixture {
  app: FastifyInstance;
  pool: pg.Pool;
  db: TestDatabase;
  token: string;
  call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startProfile(): Promise<ProfileFixture> {
  const db = await createTestDatabase('up');
  const own = await provisionServiceDatabase(db.url, 'user-profile', `pw-${db.name}`);
  const pool = createPool(own.url, { applicationName: 'user-profile-test' });
  await migrateUserProfile(pool);
  const token = `token-${db.name}`;
  const app = buildApp({ config: { SERVICE_TOKEN: token }, pool, logger: captureLogger('user-profile').logger });
  await app.ready();
  return {
    app,
    pool,
    db,
    token,
    async call(method, url, payload) {
      const response = await app.inject({
        method,
        url,
        headers: { [SERVICE_TOKEN_HEADER]: token },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return { status: response.statusCode, body: response.body ? response.json() : undefined };
    },
    async close() {
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}
