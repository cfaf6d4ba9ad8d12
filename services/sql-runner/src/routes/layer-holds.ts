import { SqlRunnerApi } from '@taidon/contracts';
import { NotFoundError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { LayerHolds } from '../domain/holds/layer-holds.js';

/**
 * Layer holds (internal: the service token; the gateway routes them nowhere): `PUT /layer-holds/:holder`
 * pins the named layers for the holder and keeps warm instances of them, replacing what it held (200);
 * `GET /layer-holds/:holder` answers what it holds now, each key with the connections this runner holds ready
 * to its warm instances (404 when it holds nothing); `DELETE /layer-holds/:holder` lets go of everything it
 * holds (204). The exercises service holds a publication's start state and hidden datasets as `exercise:<id>`.
 */
export function registerLayerHoldRoutes(
  app: FastifyInstance,
  holds: LayerHolds,
  /** Connections this runner holds ready to warm instances of `key` (PreparedConnections.readyFor). */
  prepared: (key: string) => number,
): void {
  const withPrepared = (answer: { holder: string; keys: { key: string; pinned: boolean; warm: number }[] }) => ({
    holder: answer.holder,
    keys: answer.keys.map((k) => ({ ...k, prepared: prepared(k.key) })),
  });
  app.put<{ Params: SqlRunnerApi.LayerHoldParams; Body: SqlRunnerApi.LayerHoldRequest }>(
    '/layer-holds/:holder',
    {
      schema: {
        params: SqlRunnerApi.LayerHoldParams,
        body: SqlRunnerApi.LayerHoldRequest,
        response: { 200: SqlRunnerApi.LayerHoldResponse },
      },
    },
    async (request) =>
      withPrepared(await holds.hold(request.params.holder, request.body.keys, request.body.warm ?? 1, request.id)),
  );
  app.get<{ Params: SqlRunnerApi.LayerHoldParams }>(
    '/layer-holds/:holder',
    { schema: { params: SqlRunnerApi.LayerHoldParams, response: { 200: SqlRunnerApi.LayerHoldResponse } } },
    async (request) => {
      const answer = await holds.status(request.params.holder);
      if (answer.keys.length === 0) throw new NotFoundError('NOT_FOUND', `${request.params.holder} holds nothing.`);
      return withPrepared(answer);
    },
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
