import type { FastifyInstance } from 'fastify';
import type { WarmPool } from '../domain/warm-pool.js';
import { PoolKeyParams, PoolSizeBody, PoolStatusBody } from './schemas.js';

/** Warm-pool demand: how many ready instances to keep per key. */
export function registerWarmPoolRoutes(app: FastifyInstance, pool: WarmPool): void {
  app.put<{ Params: { key: string }; Body: { size: number } }>(
    '/warm-pool/:key',
    { schema: { params: PoolKeyParams, body: PoolSizeBody, response: { 200: PoolStatusBody } } },
    async (request) => pool.setDemand(request.params.key, request.body.size),
  );
  app.get('/warm-pool', { schema: { response: { 200: { type: 'array', items: PoolStatusBody } } } }, async () =>
    pool.status(),
  );
}
