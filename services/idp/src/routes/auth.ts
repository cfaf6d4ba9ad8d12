import { AccessTokenResponse } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { publishedKeySet } from '../domain/keys.js';
import { signInAnonymously } from '../domain/sign-in.js';
import type { TokenSettings } from '../domain/tokens.js';

/** Sign-in routes and the JWKS that lets anyone verify idp's tokens. */
export function registerAuthRoutes(app: FastifyInstance, pool: pg.Pool, settings: TokenSettings): void {
  app.post('/auth/anonymous', { schema: { response: { 201: AccessTokenResponse } } }, async (_request, reply) => {
    reply.code(201).header('cache-control', 'no-store');
    return signInAnonymously(pool, settings);
  });
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60');
    return publishedKeySet(pool, settings.ttlSeconds);
  });
}
