import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { UserProfileConfig } from './config.js';
import { migrateUserProfile } from './migrate.js';

/** user-profile built and ready to listen; close() stops the app, then ends its pool. */
export interface StartedUserProfile {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the whole of user-profile from its validated config (pool, migrations, app): the one way it is started. */
export async function startUserProfile(
  config: UserProfileConfig,
  options: { logger: Logger },
): Promise<StartedUserProfile> {
  const pool = createPool(config.USER_PROFILE_DATABASE_URL, { applicationName: 'taidon-user-profile' });
  try {
    await migrateUserProfile(pool);
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
