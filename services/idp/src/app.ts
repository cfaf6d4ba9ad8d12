import { createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { IdpConfig } from './config.js';
import { registerAuthRoutes } from './routes/auth.js';

/** What idp needs from the outside world. */
export interface IdpDeps {
  config: Pick<IdpConfig, 'IDP_ISSUER' | 'ACCESS_TOKEN_AUDIENCE' | 'ACCESS_TOKEN_TTL_SECONDS' | 'SERVICE_TOKEN'>;
  pool: pg.Pool;
  logger: Logger;
}

/** idp: signs people in and publishes the keys that verify its tokens. */
export function buildApp(deps: IdpDeps): FastifyInstance {
  const app = createBaseApp({ service: 'idp', logger: deps.logger, readiness: { database: pingPool(deps.pool) } });
  requireServiceToken(app, deps.config.SERVICE_TOKEN, ['/.well-known/jwks.json']);
  registerAuthRoutes(app, deps.pool, {
    issuer: deps.config.IDP_ISSUER,
    audience: deps.config.ACCESS_TOKEN_AUDIENCE,
    ttlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
  });
  return app;
}
