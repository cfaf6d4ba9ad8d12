import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SnapshotCacheApi as Api } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { LayerCache } from '../domain/layer-cache.js';
import { layerBody } from './schemas.js';

/** Keys one lookup may carry: a chain's key path, base key first. */
export const LOOKUP_MAX_KEYS = Api.LOOKUP_MAX_KEYS;

/**
 * Body limit of a lookup, sized to LOOKUP_MAX_KEYS: a key is 64 hex digits,
 * 67 bytes in the JSON array. The service-wide 1 MiB held ~15,600 keys, so a
 * plan of 16,000 `SELECT 1;` answered a false 413 (issue 20).
 */
export const LOOKUP_BODY_LIMIT_BYTES = LOOKUP_MAX_KEYS * 67 + 64 * 1024;

/** Layers: create (snapshot), read, look up a key path, pin, delete, evict. */
export function registerLayerRoutes(app: FastifyInstance, cache: LayerCache): void {
  // Schemas from contracts, handler types from the schemas: the two cannot disagree.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const oneLayer = { params: Api.LayerKeyParams, response: { 200: Api.Layer } };
  api.post(
    '/layers',
    { schema: { body: Api.CreateLayerRequest, response: { 200: Api.Layer, 201: Api.Layer } } },
    async (request, reply) => {
      const { layer, created } = await cache.createLayer(request.body);
      reply.code(created ? 201 : 200);
      return layerBody(layer);
    },
  );
  api.get('/layers', { schema: { response: { 200: Type.Array(Api.Layer) } } }, async () =>
    (await cache.listLayers()).map(layerBody),
  );
  api.get('/layers/:key', { schema: oneLayer }, async (request) => layerBody(await cache.getLayer(request.params.key)));
  api.post(
    '/layers/lookup',
    { bodyLimit: LOOKUP_BODY_LIMIT_BYTES, schema: { body: Api.LookupRequest, response: { 200: Api.LookupResult } } },
    async (request) => cache.lookup(request.body.keys),
  );
  api.put('/layers/:key/pin', { schema: oneLayer }, async (request) =>
    layerBody(await cache.setPinned(request.params.key, true)),
  );
  api.delete('/layers/:key/pin', { schema: oneLayer }, async (request) =>
    layerBody(await cache.setPinned(request.params.key, false)),
  );
  api.delete('/layers/:key', { schema: { params: Api.LayerKeyParams } }, async (request, reply) => {
    await cache.deleteLayer(request.params.key);
    return reply.code(204).send();
  });
  api.post('/evict', { schema: { response: { 200: Api.EvictionResult } } }, async () => cache.evict());
}
