import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { sessionSchema } from '../domain/runs/catalog.js';
import type { RunnerDeps } from '../domain/runs/context.js';

/** `GET /sessions/:id/schema`: tables and columns of the caller's session instance, for completion. */
export function registerSchemaRoutes(app: FastifyInstance, deps: RunnerDeps): void {
  app.get<{ Params: { id: string } }>(
    '/sessions/:id/schema',
    {
      schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] } },
    },
    async (request) => {
      const owner = request.headers[ACCOUNT_HEADER];
      if (typeof owner !== 'string' || owner === '') {
        throw new UnauthorizedError('UNAUTHORIZED', 'Reading a schema needs the account it belongs to.');
      }
      return sessionSchema(deps, owner, request.params.id);
    },
  );
}
