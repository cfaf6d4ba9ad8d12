import { createBaseApp } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerTokenCheck } from './auth.js';
import type { GatewayConfig } from './config.js';
import { KeyCache } from './jwks.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerOpenApi, registerOpenApiRoute } from './routes/openapi.js';
import { registerPlanRoutes } from './routes/plan.js';
import { registerRunRoutes } from './routes/runs.js';
import { type Upstream, upstreamReady } from './upstream.js';

/** What the gateway needs from the outside world. */
export interface GatewayDeps {
  config: Pick<
    GatewayConfig,
    | 'IDP_URL'
    | 'SQL_RUNNER_URL'
    | 'SERVICE_TOKEN'
    | 'ACCESS_TOKEN_ISSUER'
    | 'ACCESS_TOKEN_AUDIENCE'
    | 'UPSTREAM_TIMEOUT_MS'
  >;
  logger: Logger;
}

/** The public entry point: verifies tokens, routes `/api/*` to services, publishes the OpenAPI document. */
export function buildApp(deps: GatewayDeps): FastifyInstance {
  const { config } = deps;
  const upstream = (baseUrl: string): Upstream => ({
    baseUrl,
    serviceToken: config.SERVICE_TOKEN,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const idp = upstream(config.IDP_URL);
  const sqlRunner = upstream(config.SQL_RUNNER_URL);
  const app = createBaseApp({
    service: 'gateway',
    logger: deps.logger,
    readiness: { idp: upstreamReady(idp), 'sql-runner': upstreamReady(sqlRunner) },
  });
  registerOpenApi(app);
  const keys = new KeyCache(new URL('/.well-known/jwks.json', config.IDP_URL).toString(), async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    return response.json();
  });
  app.register(async (api) => {
    registerTokenCheck(api, keys, { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
    registerAuthRoutes(api, idp);
    registerPlanRoutes(api, sqlRunner);
    registerRunRoutes(api, sqlRunner);
    registerOpenApiRoute(api);
  });
  return app;
}
