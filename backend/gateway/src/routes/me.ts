import { type Account, MeResponse, Problem } from '@taidon/contracts';
import { ACCOUNT_HEADER, callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { caller, required } from '../roles.js';
import { ownInstances } from './instances.js';

/** Instance states that count against the instances quota (as sql-runner counts them). */
const HELD_STATES = new Set(['Pending', 'Creating', 'Running', 'Suspended']);

/** Runs of the caller in the last minute, or null where sql-runner enforces no run rate (it has no `/usage`). */
async function runsLastMinute(sqlRunner: ServiceEndpoint, request: FastifyRequest): Promise<number | null> {
  try {
    const usage = await callService<{ runsLastMinute: number }>(sqlRunner, '/usage', {
      requestId: request.id,
      headers: { [ACCOUNT_HEADER]: caller(request).sub },
    });
    return usage.runsLastMinute;
  } catch (error) {
    if (error instanceof DomainError && error.statusCode === 404) return null;
    throw error;
  }
}

/** Upstreams `/api/me` reads from. */
export interface MeUpstreams {
  userProfile: ServiceEndpoint | undefined;
  envManager: ServiceEndpoint | undefined;
  sqlRunner: ServiceEndpoint;
}

/** `GET /api/me`: the caller's account (role, effective quotas, overrides), instances and usage. */
export function registerMeRoutes(app: FastifyInstance, upstreams: MeUpstreams): void {
  app.get(
    '/api/me',
    {
      schema: {
        summary: 'Your account: role, quotas (role defaults with your overrides), instances and usage.',
        tags: ['accounts'],
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponse, 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      const userProfile = required(upstreams.userProfile, 'user-profile');
      const [account, instances, runs] = await Promise.all([
        callService<Account>(userProfile, `/accounts/${caller(request).sub}`, { requestId: request.id }),
        ownInstances(required(upstreams.envManager, 'env-manager'), request),
        runsLastMinute(upstreams.sqlRunner, request),
      ]);
      reply.header('cache-control', 'no-store');
      return {
        account,
        instances,
        usage: { instances: instances.filter((i) => HELD_STATES.has(i.state)).length, runsLastMinute: runs },
      };
    },
  );
}
