import { ACCOUNT_ERROR_CODES, InstanceSummary, Problem } from '@taidon/contracts';
import { ACCOUNT_HEADER, callService, DomainError, NotFoundError, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { caller, required } from '../roles.js';

/** An instance as env-manager answers it (the fields the gateway shows or checks). */
interface InstanceView extends InstanceSummary {
  ownerId: string | null;
  pooled: boolean;
}

const IdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

function summary(view: InstanceView): InstanceSummary {
  const { id, state, sessionId, currentKey, createdAt, lastUsedAt, suspendedAt } = view;
  return { id, state, sessionId, currentKey, createdAt, lastUsedAt, suspendedAt };
}

/** The caller's instances (every state but Deleted), oldest first. */
export async function ownInstances(envManager: ServiceEndpoint, request: FastifyRequest): Promise<InstanceSummary[]> {
  const { sub } = caller(request);
  const views = await callService<InstanceView[]>(envManager, `/instances?ownerId=${encodeURIComponent(sub)}`, {
    requestId: request.id,
    headers: { [ACCOUNT_HEADER]: sub },
  });
  return views.filter((v) => v.ownerId === sub).map(summary);
}

/** Another account's instance and one that does not exist answer alike, so ids of others leak nothing. */
async function ownInstance(envManager: ServiceEndpoint, request: FastifyRequest, id: string): Promise<InstanceView> {
  const notFound = new NotFoundError(ACCOUNT_ERROR_CODES.instanceNotFound, `You have no instance ${id}.`, {
    instanceId: id,
  });
  const view = await callService<InstanceView>(envManager, `/instances/${id}`, { requestId: request.id }).catch(
    (error: unknown) => {
      if (error instanceof DomainError && error.statusCode === 404) throw notFound;
      throw error;
    },
  );
  if (view.ownerId !== caller(request).sub || view.pooled || view.state === 'Deleted') throw notFound;
  return view;
}

/** `GET /api/instances`, `GET /api/instances/:id`, `DELETE /api/instances/:id`: the caller's own instances only. */
export function registerInstanceRoutes(app: FastifyInstance, envManager: ServiceEndpoint | undefined): void {
  const security = [{ bearerAuth: [] }];
  app.get(
    '/api/instances',
    {
      schema: {
        summary: 'Your sandbox instances (every state but Deleted), oldest first.',
        tags: ['instances'],
        security,
        response: { 200: { type: 'array', items: InstanceSummary }, 401: Problem },
      },
    },
    async (request) => ownInstances(required(envManager, 'env-manager'), request),
  );
  app.get<{ Params: { id: string } }>(
    '/api/instances/:id',
    {
      schema: {
        summary: 'One of your instances; another account’s answers 404 as if it did not exist.',
        tags: ['instances'],
        security,
        params: IdParams,
        response: { 200: InstanceSummary, 401: Problem, 404: Problem },
      },
    },
    async (request) => summary(await ownInstance(required(envManager, 'env-manager'), request, request.params.id)),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/instances/:id',
    {
      schema: {
        summary: 'Delete one of your instances (frees a place in your instances quota).',
        tags: ['instances'],
        security,
        params: IdParams,
        response: { 200: InstanceSummary, 401: Problem, 404: Problem },
      },
    },
    async (request) => {
      const endpoint = required(envManager, 'env-manager');
      await ownInstance(endpoint, request, request.params.id);
      const deleted = await callService<InstanceView>(endpoint, `/instances/${request.params.id}`, {
        method: 'DELETE',
        requestId: request.id,
      });
      return summary(deleted);
    },
  );
}
