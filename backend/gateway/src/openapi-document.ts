import type { Logger } from 'pino';
import { buildApp } from './app.js';

/**
 * The OpenAPI document the gateway serves at /api/openapi.json, built from a
 * gateway with placeholder upstreams (nothing is called): what
 * `npm run openapi` writes and the docs test compares with the committed copy.
 */
export async function openApiDocument(logger: Logger): Promise<unknown> {
  const app = buildApp({
    config: {
      IDP_URL: 'http://127.0.0.1:9',
      SQL_RUNNER_URL: 'http://127.0.0.1:9',
      SERVICE_TOKEN: 'unused',
      ACCESS_TOKEN_ISSUER: 'taidon-idp',
      ACCESS_TOKEN_AUDIENCE: 'taidon',
      UPSTREAM_TIMEOUT_MS: 1_000,
    },
    logger,
  });
  try {
    return (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  } finally {
    await app.close();
  }
}
