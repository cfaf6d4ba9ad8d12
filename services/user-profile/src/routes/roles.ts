import { RoleQuotas } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { roleDefaults } from '../store/roles.js';

/**
 * `GET /roles/quotas`: every role's default quotas. sql-runner falls back to
 * them for a token whose account user-profile does not know (accounts made
 * before user-profile existed), so a quota always applies.
 */
export function registerRoleRoutes(app: FastifyInstance, pool: pg.Pool): void {
  app.get('/roles/quotas', { schema: { response: { 200: RoleQuotas } } }, () => roleDefaults(pool));
}
