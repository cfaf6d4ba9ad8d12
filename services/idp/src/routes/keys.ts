import type { FastifyInstance } from 'fastify';
import { publishedKeySet, type SigningKeys } from '../domain/keys.js';
import type { SessionContext } from '../domain/sessions.js';
import { RotateKeyResponseSchema } from '../schemas.js';

/** Path of the public JWKS (open: anyone may verify idp's tokens). */
export const JWKS_PATH = '/.well-known/jwks.json';

/** The JWKS, and key rotation for operators and schedulers (service token). */
export function registerKeyRoutes(app: FastifyInstance, ctx: SessionContext, keys: SigningKeys): void {
  app.get(JWKS_PATH, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60');
    return publishedKeySet(ctx.pool, ctx.accessTtlSeconds);
  });
  app.post('/keys/rotate', { schema: { response: { 201: RotateKeyResponseSchema } } }, async (_request, reply) => {
    reply.code(201);
    return { kid: await keys.rotate() };
  });
}
