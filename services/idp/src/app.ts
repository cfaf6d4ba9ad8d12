import { createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { IdpConfig } from './config.js';
import { createAccountsClient } from './domain/accounts-client.js';
import { SignInAttempts } from './domain/attempts.js';
import { SigningKeys } from './domain/keys.js';
import { type OidcSettings, OidcSignIn } from './domain/oidc.js';
import type { SessionContext } from './domain/sessions.js';
import { OidcFailedError, TooManyAttemptsError } from './errors.js';
import { registerAuthRoutes } from './routes/auth.js';
import { JWKS_PATH, registerKeyRoutes } from './routes/keys.js';
import { registerOidcRoutes } from './routes/oidc.js';

type Optional =
  | 'REFRESH_TOKEN_TTL_SECONDS'
  | 'SIGNING_KEY_ROTATE_DAYS'
  | 'SIGN_IN_MAX_FAILURES_PER_ACCOUNT'
  | 'SIGN_IN_MAX_FAILURES_PER_IP'
  | 'SIGN_IN_WINDOW_SECONDS'
  | 'OIDC_ISSUER_URL'
  | 'OIDC_CLIENT_ID'
  | 'OIDC_CLIENT_SECRET'
  | 'OIDC_REDIRECT_URL';

/** What idp needs from the outside world; unset optional settings take their documented defaults. */
export interface IdpDeps {
  config: Pick<
    IdpConfig,
    'IDP_ISSUER' | 'ACCESS_TOKEN_AUDIENCE' | 'ACCESS_TOKEN_TTL_SECONDS' | 'SERVICE_TOKEN' | 'USER_PROFILE_URL'
  > &
    Partial<Pick<IdpConfig, Optional>>;
  pool: pg.Pool;
  logger: Logger;
}

/** Default public callback of the all-in-one start. */
const DEFAULT_REDIRECT_URL = 'http://127.0.0.1:8080/api/auth/oidc/callback';

function oidcSettings(config: IdpDeps['config']): OidcSettings | undefined {
  const { OIDC_ISSUER_URL: issuerUrl, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: clientSecret } = config;
  if (!issuerUrl || !clientId || !clientSecret) return undefined;
  return { issuerUrl, clientId, clientSecret, redirectUrl: config.OIDC_REDIRECT_URL ?? DEFAULT_REDIRECT_URL };
}

/** idp: signs people in (anonymous, password, OIDC), rotates sessions and publishes the keys that verify its tokens. */
export function buildApp(deps: IdpDeps): FastifyInstance {
  const { config, pool } = deps;
  const app = createBaseApp({
    service: 'idp',
    logger: deps.logger,
    readiness: { database: pingPool(pool) },
    // Its one client (user-profile's accounts) is given the request id on every call (createBaseApp's hopContext).
    hopContext: false,
  });
  requireServiceToken(app, config.SERVICE_TOKEN, [JWKS_PATH]);
  app.addHook('onError', async (request, reply, error) => {
    if (error instanceof TooManyAttemptsError) reply.header('retry-after', String(error.retryAfterSeconds));
    if (error instanceof OidcFailedError) {
      // The check that failed, for operators; openid-client's messages name claims, never their values.
      const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
      request.log.warn({ reason: cause?.code, check: cause?.message }, 'OIDC callback refused');
    }
  });
  const keys = new SigningKeys(pool, config.SIGNING_KEY_ROTATE_DAYS ?? 30);
  const ctx: SessionContext = {
    pool,
    keys,
    accounts: createAccountsClient({
      name: 'user-profile',
      baseUrl: config.USER_PROFILE_URL,
      serviceToken: config.SERVICE_TOKEN,
      timeoutMs: 10_000,
    }),
    issuer: config.IDP_ISSUER,
    audience: config.ACCESS_TOKEN_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS ?? 30 * 86_400,
  };
  const attempts = new SignInAttempts(pool, {
    maxPerAccount: config.SIGN_IN_MAX_FAILURES_PER_ACCOUNT ?? 5,
    maxPerIp: config.SIGN_IN_MAX_FAILURES_PER_IP ?? 50,
    windowSeconds: config.SIGN_IN_WINDOW_SECONDS ?? 900,
  });
  registerAuthRoutes(app, ctx, attempts);
  registerOidcRoutes(app, ctx, new OidcSignIn(oidcSettings(config), ctx));
  registerKeyRoutes(app, ctx, keys);
  return app;
}
