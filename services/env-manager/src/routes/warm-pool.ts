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
  // `perKey`: the oldest few of each pool are enough to connect to ahead; a pool of hundreds is not listed whole.
  app.get<{ Querystring: { perKey?: string } }>(
    '/warm-pool/instances',
    {
      schema: {
        // Query values stay strings (no type coercion in our services): a positive integer of up to 4 digits.
        querystring: {
          type: 'object',
          properties: { perKey: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
          additionalProperties: false,
        },
        response: { 200: { type: 'array', items: PooledInstance } },
      },
    },
    async (request) => manager.pooled(request.query.perKey === undefined ? undefined : Number(request.query.perKey)),
  );
  app.get('/warm-pool', { schema: { response: { 200: { type: 'array', items: PoolStatusBody } } } }, async () =>
    pool.status(),
  );
}
