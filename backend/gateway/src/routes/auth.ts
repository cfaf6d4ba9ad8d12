import { AccessTokenResponse, Problem } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** Public sign-in routes, answered by idp. */
export function registerAuthRoutes(app: FastifyInstance, idp: Upstream): void {
  app.post(
    '/api/auth/anonymous',
    {
      config: { public: true },
      schema: {
        summary: 'Sign in without a form: a new anonymous account and its access token.',
        tags: ['auth'],
        response: { 201: AccessTokenResponse, 503: Problem },
      },
    },
    async (request, reply) => forward(idp, request, reply, '/auth/anonymous'),
  );
}
