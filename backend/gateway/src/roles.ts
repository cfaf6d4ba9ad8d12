import { ACCOUNT_ERROR_CODES, type Account, type Role } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { GatewayError, upstreamUnavailable } from './errors.js';

/** The caller's role does not allow the route. */
export class ForbiddenError extends GatewayError {
  constructor(roles: readonly Role[]) {
    super(ACCOUNT_ERROR_CODES.forbidden, `This route is for ${roles.join(' or ')} accounts only.`);
  }
}

/** The verified caller of a route behind the token check. */
export function caller(request: FastifyRequest): { sub: string; role: Role } {
  return request.user as { sub: string; role: Role };
}

/** A service the gateway calls itself (not only forwards to), or a 503 when the deployment has not configured it. */
export function required(endpoint: ServiceEndpoint | undefined, name: string): ServiceEndpoint {
  if (!endpoint) throw upstreamUnavailable(`${name} is not configured behind this gateway.`);
  return endpoint;
}

/**
 * preHandler for instructor and admin routes: the token's role must be one of
 * `roles`, and so must the account's current role in user-profile, so that a
 * demotion takes effect at once rather than when the token expires.
 */
export function requireRole(
  userProfile: ServiceEndpoint | undefined,
  ...roles: readonly Role[]
): preHandlerAsyncHookHandler {
  return async (request) => {
    const { sub, role } = caller(request);
    if (!roles.includes(role)) throw new ForbiddenError(roles);
    const account = await callService<Account>(required(userProfile, 'user-profile'), `/accounts/${sub}`, {
      requestId: request.id,
    }).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === ACCOUNT_ERROR_CODES.accountNotFound) return undefined;
      throw error;
    });
    if (!account || !roles.includes(account.role)) throw new ForbiddenError(roles);
  };
}
