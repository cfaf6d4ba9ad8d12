import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { RunQuota } from '../domain/runs/quota.js';

/** `GET /usage`: runs the calling account started in the last minute on any replica, for `/api/me` (only with quotas enforced). */
export function registerUsageRoutes(app: FastifyInstance, quota: RunQuota): void {
  app.get(
    '/usage',
    {
      schema: {
        response: {
          200: { type: 'object', required: ['runsLastMinute'], properties: { runsLastMinute: { type: 'integer' } } },
        },
      },
    },
    async (request) => {
      const owner = request.headers[ACCOUNT_HEADER];
      if (typeof owner !== 'string' || owner === '')
        throw new UnauthorizedError('UNAUTHORIZED', 'Usage needs the account.');
      return { runsLastMinute: await quota.runsLastMinute(owner) };
    },
  );
}
