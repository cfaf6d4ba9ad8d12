import { createBaseApp, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SqlRunnerConfig } from './config.js';
import type { EngineIdentity } from './domain/engine.js';
import { registerPlanRoutes } from './routes/plan.js';

/** What sql-runner needs from the outside world. */
export interface SqlRunnerDeps {
  config: Pick<SqlRunnerConfig, 'SERVICE_TOKEN'>;
  engine: EngineIdentity;
  logger: Logger;
}

/** sql-runner: plans SQL chains (and, later, runs them). */
export function buildApp(deps: SqlRunnerDeps): FastifyInstance {
  const app = createBaseApp({ service: 'sql-runner', logger: deps.logger, bodyLimitBytes: 1024 * 1024 });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  registerPlanRoutes(app, deps.engine);
  return app;
}
