import { createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { UserProfileConfig } from './config.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerRoleRoutes } from './routes/roles.js';

/** What user-profile needs from the outside world. */
export interface UserProfileDeps {
  config: Pick<UserProfileConfig, 'SERVICE_TOKEN'>;
  pool: pg.Pool;
  logger: Logger;
}

/** user-profile: accounts, roles and the quotas every other service enforces. */
export function buildApp(deps: UserProfileDeps): FastifyInstance {
  const app = createBaseApp({
    service: 'user-profile',
    logger: deps.logger,
    readiness: { database: pingPool(deps.pool) },
    // It calls no other service (createBaseApp's hopContext).
    hopContext: false,
  });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  registerAccountRoutes(app, deps.pool);
  registerRoleRoutes(app, deps.pool);
  return app;
}
