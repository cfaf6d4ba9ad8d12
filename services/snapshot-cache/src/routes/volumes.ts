import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
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
  // Env-manager's orphan sweep on a cluster: which volumes this agent holds, and since when.
  api.get(
    '/volumes',
    { schema: { querystring: Api.ListVolumesQuery, response: { 200: Type.Array(Api.VolumeEntry) } } },
    async (request, reply) => {
      const limit = Number(request.query.limit ?? Api.VOLUME_LIST_MAX);
      reply.header('cache-control', 'no-store');
      const volumes = await cache.listVolumes(Number(request.query.olderThanSeconds ?? 0), limit);
      return volumes.map((v) => ({ id: v.id, layerKey: v.layerKey, createdAt: v.createdAt.toISOString() }));
    },
  );
  api.delete('/volumes/:id', { schema: { params: Api.VolumeIdParams } }, async (request, reply) => {
    await cache.destroyVolume(request.params.id);
    return reply.code(204).send();
  });
}
