import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EnvManagerApi as Api } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { InstanceManager } from '../domain/instances.js';
import type { WarmPool } from '../domain/warm-pool.js';

/** Warm-pool demand: how many ready instances to keep per key (both runtimes: the local one's, a cluster's). */
export function registerWarmPoolRoutes(
  app: FastifyInstance,
  pool: WarmPool,
  manager: Pick<InstanceManager, 'pooled'>,
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.put(
    '/warm-pool/:key',
    { schema: { params: Api.PoolKeyParams, body: Api.PoolSizeRequest, response: { 200: Api.PoolStatus } } },
    async (request) => pool.setDemand(request.params.key, request.body.size),
  );
  // Ready instances of a pool: a runner connects to them ahead of a claim, so a pooled run pays no connection set-up.
  // `perKey`: the oldest few of each pool are enough to connect to ahead; a pool of hundreds is not listed whole.
  api.get(
    '/warm-pool/instances',
    {
      schema: { querystring: Api.PooledInstancesQuery, response: { 200: Type.Array(Api.PooledInstance) } },
    },
    async (request) => manager.pooled(request.query.perKey === undefined ? undefined : Number(request.query.perKey)),
  );
  api.get('/warm-pool', { schema: { response: { 200: Type.Array(Api.PoolStatus) } } }, async () => pool.status());
}
