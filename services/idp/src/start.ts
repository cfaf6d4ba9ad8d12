import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { IdpConfig } from './config.js';
import { migrateIdp } from './migrate.js';

/** idp built and ready to listen; close() stops the app, then ends its pool. */
export interface StartedIdp {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the whole of idp from its validated config (pool, migrations, app): the one way it is started. */
export async function startIdp(config: IdpConfig, options: { logger: Logger }): Promise<StartedIdp> {
  const pool = createPool(config.IDP_DATABASE_URL, { applicationName: 'taidon-idp' });
  try {
    await migrateIdp(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const app = buildApp({ config, pool, logger: options.logger });
  return {
    app,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
