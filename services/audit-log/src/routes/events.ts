import {
  AuditEventBatch,
  AuditPage,
  AuditQuery,
  type AuditQuery as AuditQueryType,
  AuditVerification,
} from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { appendEvents } from '../domain/append.js';
import { queryEvents } from '../domain/query.js';
import { verifyChain } from '../domain/verify.js';

/** Appending events (service callers), querying them and verifying the chain. */
export function registerEventRoutes(app: FastifyInstance, pool: pg.Pool): void {
  app.post<{ Body: AuditEventBatch }>(
    '/events',
    {
      schema: {
        body: AuditEventBatch,
        response: {
          200: {
            type: 'object',
            properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' } },
            required: ['accepted', 'duplicates'],
          },
        },
      },
    },
    async (request) => appendEvents(pool, request.body.events),
  );
  app.get<{ Querystring: AuditQueryType }>(
    '/events',
    { schema: { querystring: AuditQuery, response: { 200: AuditPage } } },
    async (request) => queryEvents(pool, request.query),
  );
  app.get('/verify', { schema: { response: { 200: AuditVerification } } }, async () => verifyChain(pool));
}
