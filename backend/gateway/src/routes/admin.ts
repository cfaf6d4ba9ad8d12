import { Account, AccountList, AccountListQuery, Problem, UpdateAccountRequest } from '@taidon/contracts';
import { callService, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { required, requireRole } from '../roles.js';

const IdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

/** `/api/admin/accounts`: list accounts, change a role or quota overrides. Admin accounts only (403 otherwise). */
export function registerAdminRoutes(app: FastifyInstance, userProfile: ServiceEndpoint | undefined): void {
  const preHandler = requireRole(userProfile, 'admin');
  const security = [{ bearerAuth: [] }];
  app.get<{ Querystring: AccountListQuery }>(
    '/api/admin/accounts',
    {
      preHandler,
      schema: {
        summary:
          'Accounts, oldest first, optionally of one role; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['admin'],
        security,
        querystring: AccountListQuery,
        response: { 200: AccountList, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const query = new URLSearchParams(
        Object.entries(request.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
      return callService<AccountList>(required(userProfile, 'user-profile'), `/accounts?${query}`, {
        requestId: request.id,
      });
    },
  );
  app.patch<{ Params: { id: string }; Body: UpdateAccountRequest }>(
    '/api/admin/accounts/:id',
    {
      preHandler,
      schema: {
        summary: 'Change an account’s role and/or replace its quota overrides (`{}` clears them).',
        tags: ['admin'],
        security,
        params: IdParams,
        body: UpdateAccountRequest,
        response: { 200: Account, 400: Problem, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request) =>
      callService<Account>(required(userProfile, 'user-profile'), `/accounts/${request.params.id}`, {
        method: 'PATCH',
        body: request.body,
        requestId: request.id,
      }),
  );
}
