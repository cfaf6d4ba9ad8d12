import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SnapshotCacheApi as Api } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { LayerCache } from '../domain/layer-cache.js';

/** Volumes: writable directories, empty or cloned from a layer. */
export function registerVolumeRoutes(app: FastifyInstance, cache: LayerCache): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/volumes',
    { schema: { body: Api.CreateVolumeRequest, response: { 201: Api.Volume } } },
    async (request, reply) => {
      reply.code(201);
      return cache.createVolume(request.body ?? {});
    },
  );
  api.delete('/volumes/:id', { schema: { params: Api.VolumeIdParams } }, async (request, reply) => {
    await cache.destroyVolume(request.params.id);
    return reply.code(204).send();
  });
}
