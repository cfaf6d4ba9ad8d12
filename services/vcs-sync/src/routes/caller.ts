import { ACCOUNT_HEADER, ROLE_HEADER } from '@taidon/kit';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../domain/workspace.js';
import { VcsSyncError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE = /^[a-z]{1,20}$/;

/**
 * The account a request acts for: the gateway puts the verified token's
 * `sub` and role in headers, and only requests with the service token get
 * this far. Every project route checks ownership against it.
 */
export function callerOf(request: FastifyRequest): Caller {
  const account = request.headers[ACCOUNT_HEADER];
  if (typeof account !== 'string' || !UUID.test(account)) {
    throw new VcsSyncError('VCS_SYNC_ACCOUNT_REQUIRED', `Project routes act for an account: send ${ACCOUNT_HEADER}.`);
  }
  const role = request.headers[ROLE_HEADER];
  return { accountId: account.toLowerCase(), role: typeof role === 'string' && ROLE.test(role) ? role : undefined };
}
