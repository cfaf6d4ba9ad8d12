import { Problem, SessionSchema } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** `GET /api/sessions/:id/schema`, answered by sql-runner: what the editor completes. */
export function registerSchemaRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.get<{ Params: { id: string } }>(
    '/api/sessions/:id/schema',
    {
      schema: {
        summary:
          "Schemas, tables, columns, keys, indexes and row estimates of the session's current instance (capped), for the editor's completion and schema browser.",
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        response: { 200: SessionSchema, 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, `/sessions/${request.params.id}/schema`),
  );
}
