import type { FastifyInstance } from 'fastify';
import type { LayerCache } from '../domain/layer-cache.js';
import { StateKey, VolumeId, VolumeParams } from './schemas.js';

const CreateVolume = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fromLayerKey: { ...StateKey, description: 'Clone this layer; omit for an empty volume.' },
    sizeLimitBytes: { type: 'integer', minimum: 1, description: 'Cap on what the volume writes (btrfs qgroups).' },
  },
} as const;

const VolumeBody = {
  type: 'object',
  required: ['id', 'path', 'layerKey'],
  properties: { id: VolumeId, path: { type: 'string' }, layerKey: { anyOf: [StateKey, { type: 'null' }] } },
} as const;

/** Volumes: writable directories, empty or cloned from a layer. */
export function registerVolumeRoutes(app: FastifyInstance, cache: LayerCache): void {
  app.post<{ Body: { fromLayerKey?: string; sizeLimitBytes?: number } }>(
    '/volumes',
    { schema: { body: CreateVolume, response: { 201: VolumeBody } } },
    async (request, reply) => {
      reply.code(201);
      return cache.createVolume(request.body ?? {});
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/volumes/:id',
    { schema: { params: VolumeParams } },
    async (request, reply) => {
      await cache.destroyVolume(request.params.id);
      return reply.code(204).send();
    },
  );
}
