import {
  Account,
  AccountList,
  AccountListQuery,
  CreateAccountRequest,
  Problem,
  Quotas,
  UpdateAccountRequest,
  UpgradeAccountRequest,
} from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  changeAccount,
  createAccount,
  effectiveQuotas,
  getAccount,
  listAccountPage,
  upgradeAccount,
} from '../domain/accounts.js';

const IdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

type IdRoute = { Params: { id: string } };

/**
 * Accounts, for services only (idp creates and upgrades them, sql-runner reads
 * quotas, the gateway reads and changes them for `/api/me` and `/api/admin`).
 * Role checks are the gateway's: a service token is trusted with every route.
 */
export function registerAccountRoutes(app: FastifyInstance, pool: pg.Pool): void {
  const problems = { 400: Problem, 404: Problem, 409: Problem };
  app.post<{ Body: CreateAccountRequest }>(
    '/accounts',
    { schema: { body: CreateAccountRequest, response: { 201: Account, ...problems } } },
    async (request, reply) => {
      reply.code(201);
      return createAccount(pool, request.body);
    },
  );
  app.get<{ Querystring: AccountListQuery }>(
    '/accounts',
    { schema: { querystring: AccountListQuery, response: { 200: AccountList, 400: Problem } } },
    async (request) => {
      const { role, limit, cursor } = request.query;
      return listAccountPage(pool, {
        ...(role ? { role } : {}),
        ...(limit ? { limit: Number(limit) } : {}),
        ...(cursor ? { cursor } : {}),
      });
    },
  );
  app.get<IdRoute>(
    '/accounts/:id',
    { schema: { params: IdParams, response: { 200: Account, ...problems } } },
    (request) => getAccount(pool, request.params.id),
  );
  app.get<IdRoute>(
    '/accounts/:id/quotas',
    { schema: { params: IdParams, response: { 200: Quotas, ...problems } } },
    (request) => effectiveQuotas(pool, request.params.id),
  );
  app.post<IdRoute & { Body: UpgradeAccountRequest }>(
    '/accounts/:id/upgrade',
    { schema: { params: IdParams, body: UpgradeAccountRequest, response: { 200: Account, ...problems } } },
    (request) => upgradeAccount(pool, request.params.id, request.body),
  );
  app.patch<IdRoute & { Body: UpdateAccountRequest }>(
    '/accounts/:id',
    { schema: { params: IdParams, body: UpdateAccountRequest, response: { 200: Account, ...problems } } },
    (request) => changeAccount(pool, request.params.id, request.body),
  );
}
