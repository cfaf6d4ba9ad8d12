import { AuditPage, AuditQuery, AuditVerification, Problem } from '@taidon/contracts';
import { callService, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { caller, ForbiddenError, required, requireRole } from '../roles.js';

/**
 * Admins only: the token's role must be `admin`, and so must the account's
 * current role in user-profile when the gateway has one configured.
 */
function adminOnly(userProfile: ServiceEndpoint | undefined): preHandlerAsyncHookHandler {
  if (userProfile) return requireRole(userProfile, 'admin');
  return async (request) => {
    if (caller(request).role !== 'admin') throw new ForbiddenError(['admin']);
  };
}

/** `GET /api/admin/audit` (query the audit log) and `GET /api/admin/audit/verify` (check its hash chain). */
export function registerAdminAuditRoutes(
  app: FastifyInstance,
  auditLog: ServiceEndpoint | undefined,
  userProfile: ServiceEndpoint | undefined,
): void {
  const preHandler = adminOnly(userProfile);
  const security = [{ bearerAuth: [] }];
  app.get<{ Querystring: AuditQuery }>(
    '/api/admin/audit',
    {
      preHandler,
      schema: {
        summary: 'Audit events, newest first, by account, action and time; pass `nextCursor` back as `cursor`.',
        tags: ['admin'],
        security,
        querystring: AuditQuery,
        response: { 200: AuditPage, 400: Problem, 401: Problem, 403: Problem, 422: Problem, 503: Problem },
      },
    },
    async (request) => {
      const query = new URLSearchParams(
        Object.entries(request.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
      return callService<AuditPage>(required(auditLog, 'audit-log'), `/events?${query}`, { requestId: request.id });
    },
  );
  app.get(
    '/api/admin/audit/verify',
    {
      preHandler,
      schema: {
        summary: 'Re-hash the whole audit chain: `ok` false names the first event that was altered.',
        tags: ['admin'],
        security,
        response: { 200: AuditVerification, 401: Problem, 403: Problem, 503: Problem },
      },
    },
    async (request) =>
      callService<AuditVerification>(required(auditLog, 'audit-log'), '/verify', { requestId: request.id }),
  );
}
