import type { FastifyInstance } from 'fastify';
import type { InstanceManager } from '../domain/instances.js';
import type { WarmPool } from '../domain/warm-pool.js';
import { InstanceBody, PoolKeyParams, PoolSizeBody, PoolStatusBody } from './schemas.js';

/** Warm-pool demand: how many ready instances to keep per key. */
export function registerWarmPoolRoutes(app: FastifyInstance, pool: WarmPool, manager: InstanceManager): void {
  app.put<{ Params: { key: string }; Body: { size: number } }>(
    '/warm-pool/:key',
    { schema: { params: PoolKeyParams, body: PoolSizeBody, response: { 200: PoolStatusBody } } },
    async (request) => pool.setDemand(request.params.key, request.body.size),
  );
  // Ready instances of a pool: a runner connects to them ahead of a claim, so a pooled run pays no connection set-up.
  const PooledInstance = {
    ...InstanceBody,
    required: [...InstanceBody.required, 'poolKey'],
    properties: { ...InstanceBody.properties, poolKey: { type: ['string', 'null'] } },
  };
  app.get(
    '/warm-pool/instances',
    { schema: { response: { 200: { type: 'array', items: PooledInstance } } } },
    async () => manager.pooled(),
  );
  app.get('/warm-pool', { schema: { response: { 200: { type: 'array', items: PoolStatusBody } } } }, async () =>
    pool.status(),
  );
}
