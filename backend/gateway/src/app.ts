import { type AuditSink, createBaseApp } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerAuditEvents } from './audit-events.js';
import { registerTokenCheck } from './auth.js';
import type { GatewayConfig } from './config.js';
import { edgeLimitsOf } from './edge-limits.js';
import { type HardeningSettings, registerRateLimits, registerSecurityHeaders } from './hardening.js';
import { KeyCache } from './jwks.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerAdminAuditRoutes } from './routes/admin-audit.js';
import { registerAdminOverviewRoute } from './routes/admin-overview.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerExercisePackRoutes } from './routes/exercise-packs.js';
import { registerExerciseRoutes } from './routes/exercises.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerMeRoutes } from './routes/me.js';
import { registerOpenApi, registerOpenApiRoute } from './routes/openapi.js';
import { registerPlanRoutes } from './routes/plan.js';
import { registerProjectTestRoutes } from './routes/project-tests.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerSchemaRoutes } from './routes/schema.js';
import { registerSharePage, registerShareRoutes } from './routes/shares.js';
import { DEFAULT_SPA_DIR, registerSpa } from './routes/spa.js';
import { registerPublicProblemPaths, type Upstream, upstreamReady } from './upstream.js';

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
  > &
    Partial<
      Pick<GatewayConfig, 'SPA_DIR' | 'USER_PROFILE_URL' | 'ENV_MANAGER_URL' | 'VCS_SYNC_URL' | 'EXERCISES_URL'>
    > &
    Partial<Pick<GatewayConfig, 'AUDIT_LOG_URL' | 'BODY_LIMIT_BYTES' | 'SNAPSHOT_CACHE_URL'>> &
    HardeningSettings;
  logger: Logger;
  /** Where audit events go (createAuditSink); without one nothing is recorded. The gateway flushes it on close. */
  audit?: AuditSink;
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
  // Services the gateway calls itself (not only forwards to); optional so a gateway without them still serves runs.
  const endpoint = (name: string, baseUrl: string | undefined) =>
    baseUrl === undefined ? undefined : { name, ...upstream(baseUrl) };
  const userProfile = endpoint('user-profile', config.USER_PROFILE_URL);
  const envManager = endpoint('env-manager', config.ENV_MANAGER_URL);
  const auditLog = endpoint('audit-log', config.AUDIT_LOG_URL);
  const app = createBaseApp({
    service: 'gateway',
    logger: deps.logger,
    bodyLimitBytes: config.BODY_LIMIT_BYTES ?? 1024 * 1024,
    readiness: { idp: upstreamReady(idp), 'sql-runner': upstreamReady(sqlRunner) },
    // In the server both the standalone gateway and `npm start` listen with.
    limits: edgeLimitsOf(config),
    // Every call to a service names the request's id (callIdp, forward, streamFromSqlRunner, callService's
    // requestId), so no context is kept for it (createBaseApp's hopContext).
    hopContext: false,
  });
  registerPublicProblemPaths(app);
  registerSecurityHeaders(app, config);
  registerOpenApi(app);
  const keys = new KeyCache(new URL('/.well-known/jwks.json', config.IDP_URL).toString(), async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    return response.json();
  });
  app.register(async (api) => {
    registerTokenCheck(api, keys, { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
    // After the token check: per-account limits key on the verified `sub`.
    await registerRateLimits(api, config);
    if (deps.audit) registerAuditEvents(api, deps.audit);
    registerAuthRoutes(api, idp);
    registerPlanRoutes(api, sqlRunner);
    registerRunRoutes(api, sqlRunner);
    registerExplainRoutes(api, sqlRunner);
    registerSchemaRoutes(api, sqlRunner);
    registerShareRoutes(api, sqlRunner);
    registerSharePage(api, { name: 'sql-runner', ...sqlRunner }, config.SPA_DIR ?? DEFAULT_SPA_DIR);
    registerMeRoutes(api, { userProfile, envManager, sqlRunner: { name: 'sql-runner', ...sqlRunner } });
    registerInstanceRoutes(api, envManager);
    registerProjectRoutes(api, config.VCS_SYNC_URL === undefined ? undefined : upstream(config.VCS_SYNC_URL));
    registerProjectTestRoutes(api, sqlRunner);
    registerExerciseRoutes(
      api,
      config.EXERCISES_URL === undefined ? undefined : upstream(config.EXERCISES_URL),
      userProfile,
    );
    registerExercisePackRoutes(
      api,
      config.EXERCISES_URL === undefined ? undefined : upstream(config.EXERCISES_URL),
      userProfile,
    );
    registerAdminRoutes(api, userProfile);
    registerAdminAuditRoutes(api, auditLog, userProfile);
    registerAdminOverviewRoute(
      api,
      {
        sqlRunner: config.SQL_RUNNER_URL,
        envManager: config.ENV_MANAGER_URL,
        snapshotCache: config.SNAPSHOT_CACHE_URL,
        vcsSync: config.VCS_SYNC_URL,
        gateway: async () => (await app.inject({ method: 'GET', url: '/metrics' })).body,
      },
      userProfile,
    );
    registerOpenApiRoute(api);
  });
  registerSpa(app, config.SPA_DIR ?? DEFAULT_SPA_DIR);
  const audit = deps.audit;
  if (audit) app.addHook('onClose', async () => audit.close());
  return app;
}
