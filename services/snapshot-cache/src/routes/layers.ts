import type { FastifyInstance } from 'fastify';
import type { CreateLayerInput, LayerCache } from '../domain/layer-cache.js';
import { KeyParams, LayerBody, layerBody, StateKey, VolumeId } from './schemas.js';

const CreateLayer = {
  type: 'object',
  required: ['key', 'volumeId', 'stepCount', 'buildMs'],
  additionalProperties: false,
  properties: {
    key: StateKey,
    parentKey: { anyOf: [StateKey, { type: 'null' }] },
    volumeId: VolumeId,
    stepCount: { type: 'integer', minimum: 0 },
    buildMs: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
    pinned: { type: 'boolean' },
  },
} as const;

/** Keys one lookup may carry: a chain's key path, base key first. */
export const LOOKUP_MAX_KEYS = 100_000;

/**
 * Body limit of a lookup, sized to LOOKUP_MAX_KEYS: a key is 64 hex digits,
 * 67 bytes in the JSON array. The service-wide 1 MiB held ~15,600 keys, so a
 * plan of 16,000 `SELECT 1;` answered a false 413 (issue 20).
 */
export const LOOKUP_BODY_LIMIT_BYTES = LOOKUP_MAX_KEYS * 67 + 64 * 1024;

const Lookup = {
  type: 'object',
  required: ['keys'],
  additionalProperties: false,
  properties: { keys: { type: 'array', items: StateKey, maxItems: LOOKUP_MAX_KEYS } },
} as const;

const LookupResult = {
  type: 'object',
  required: ['key', 'index', 'cached'],
  properties: {
    key: { anyOf: [StateKey, { type: 'null' }] },
    index: { type: 'integer' },
    cached: { type: 'array', items: { type: 'integer' } },
  },
} as const;

const EvictionResult = {
  type: 'object',
  required: ['evicted', 'totalBytes'],
  properties: { evicted: { type: 'array', items: StateKey }, totalBytes: { type: 'integer' } },
} as const;

type KeyRoute = { Params: { key: string } };

/** Layers: create (snapshot), read, look up a key path, pin, delete, evict. */
export function registerLayerRoutes(app: FastifyInstance, cache: LayerCache): void {
  app.post<{ Body: CreateLayerInput }>(
    '/layers',
    { schema: { body: CreateLayer, response: { 200: LayerBody, 201: LayerBody } } },
    async (request, reply) => {
      const { layer, created } = await cache.createLayer(request.body);
      reply.code(created ? 201 : 200);
      return layerBody(layer);
    },
  );
  app.get('/layers', { schema: { response: { 200: { type: 'array', items: LayerBody } } } }, async () =>
    (await cache.listLayers()).map(layerBody),
  );
  app.get<KeyRoute>('/layers/:key', { schema: { params: KeyParams, response: { 200: LayerBody } } }, async (request) =>
    layerBody(await cache.getLayer(request.params.key)),
  );
  app.post<{ Body: { keys: string[] } }>(
    '/layers/lookup',
    { bodyLimit: LOOKUP_BODY_LIMIT_BYTES, schema: { body: Lookup, response: { 200: LookupResult } } },
    async (request) => cache.lookup(request.body.keys),
  );
  app.put<KeyRoute>(
    '/layers/:key/pin',
    { schema: { params: KeyParams, response: { 200: LayerBody } } },
    async (request) => layerBody(await cache.setPinned(request.params.key, true)),
  );
  app.delete<KeyRoute>(
    '/layers/:key/pin',
    { schema: { params: KeyParams, response: { 200: LayerBody } } },
    async (request) => layerBody(await cache.setPinned(request.params.key, false)),
  );
  app.delete<KeyRoute>('/layers/:key', { schema: { params: KeyParams } }, async (request, reply) => {
    await cache.deleteLayer(request.params.key);
    return reply.code(204).send();
  });
  app.post('/evict', { schema: { response: { 200: EvictionResult } } }, async () => cache.evict());
}
