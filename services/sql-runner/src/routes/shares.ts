import {
  CreatedShare,
  CreateShareRequest,
  SharedState,
  ShareIdParams,
  ShareList,
  SharePreview,
} from '@taidon/contracts';
import { ACCOUNT_HEADER, ROLE_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ShareRateExceededError, type Shares } from '../domain/shares/shares.js';

/** The account the gateway calls for; share routes but the public read need one. */
function ownerOf(request: FastifyRequest): { ownerId: string; role: string } {
  const owner = request.headers[ACCOUNT_HEADER];
  if (typeof owner !== 'string' || owner === '')
    throw new UnauthorizedError('UNAUTHORIZED', 'Share links belong to an account: this route needs one.');
  const role = request.headers[ROLE_HEADER];
  return { ownerId: owner, role: typeof role === 'string' && role !== '' ? role : 'anonymous' };
}

/**
 * Share links (ADR 0027): `POST /shares` makes one (201), `GET /shares` lists
 * the caller's, `GET /shares/:id` reads one for anyone holding its id (no
 * account needed) and `GET /shares/:id/preview` the start of its head (the
 * gateway's share page), `DELETE /shares/:id` revokes one of the caller's (204).
 */
export function registerShareRoutes(app: FastifyInstance, shares: Shares): void {
  app.post<{ Body: CreateShareRequest }>(
    '/shares',
    // The same bounds as a run's body: a tail of project files with its head.
    { schema: { body: CreateShareRequest, response: { 201: CreatedShare } }, bodyLimit: 64 * 1024 * 1024 },
    async (request, reply) => {
      const { ownerId, role } = ownerOf(request);
      try {
        const created = await shares.create(ownerId, role, request.body, request.id);
        return reply.code(201).send(created);
      } catch (error) {
        if (error instanceof ShareRateExceededError) reply.header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
    },
  );
  app.get('/shares', { schema: { response: { 200: ShareList } } }, async (request) => ({
    shares: await shares.list(ownerOf(request).ownerId),
  }));
  app.get<{ Params: ShareIdParams }>(
    '/shares/:id',
    { schema: { params: ShareIdParams, response: { 200: SharedState } } },
    async (request, reply) => {
      // Never kept by a browser or a cache: a revoked link must be gone at once for everyone.
      reply.header('cache-control', 'no-store');
      return shares.open(request.params.id);
    },
  );
  app.get<{ Params: ShareIdParams }>(
    '/shares/:id/preview',
    { schema: { params: ShareIdParams, response: { 200: SharePreview } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return shares.preview(request.params.id);
    },
  );
  app.delete<{ Params: ShareIdParams }>(
    '/shares/:id',
    { schema: { params: ShareIdParams } },
    async (request, reply) => {
      await shares.revoke(ownerOf(request).ownerId, request.params.id, request.id);
      return reply.code(204).send();
    },
  );
}
