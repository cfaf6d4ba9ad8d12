import { SqlRunnerApi } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { LayerHolds } from '../domain/holds/layer-holds.js';

/**
 * Layer holds (internal: the service token; the gateway routes them nowhere): `PUT /layer-holds/:holder`
 * pins the named layers for the holder and keeps warm instances of them, replacing what it held (200);
 * `DELETE /layer-holds/:holder` lets go of everything it holds (204). The exercises service holds a
 * publication's start state and hidden datasets as `exercise:<id>`.
 */
export function registerLayerHoldRoutes(app: FastifyInstance, holds: LayerHolds): void {
  app.put<{ Params: SqlRunnerApi.LayerHoldParams; Body: SqlRunnerApi.LayerHoldRequest }>(
    '/layer-holds/:holder',
    {
      schema: {
        params: SqlRunnerApi.LayerHoldParams,
        body: SqlRunnerApi.LayerHoldRequest,
        response: { 200: SqlRunnerApi.LayerHoldResponse },
      },
    },
    async (request) => holds.hold(request.params.holder, request.body.keys, request.body.warm ?? 1, request.id),
  );
  app.delete<{ Params: SqlRunnerApi.LayerHoldParams }>(
    '/layer-holds/:holder',
    { schema: { params: SqlRunnerApi.LayerHoldParams } },
    async (request, reply) => {
      await holds.release(request.params.holder, request.id);
      return reply.code(204).send();
    },
  );
}
