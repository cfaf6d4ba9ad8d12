import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/** Registers the OpenAPI generator; call before the routes it documents. */
export function registerOpenApi(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Taidon API',
        version: '0.1.0',
        description: 'SQL learning sandboxes. Errors are application/problem+json with a stable `code`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    hideUntagged: true,
  });
}

/** `GET /api/openapi.json`: the document generated from the route schemas. */
export function registerOpenApiRoute(app: FastifyInstance): void {
  app.get('/api/openapi.json', { config: { public: true } }, async () => app.swagger());
}
