import type { FastifyInstance } from 'fastify';
import { type EngineIdentity, engineIdentity, type TemplateSettings } from '../engine/template.js';

/** `GET /engine`: the template identity sql-runner puts in its base state key. */
export function registerEngineRoutes(app: FastifyInstance, settings: TemplateSettings): void {
  let identity: Promise<EngineIdentity> | undefined;
  app.get(
    '/engine',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['engine', 'version', 'templateVersion', 'database', 'user', 'settings'],
            properties: {
              engine: { type: 'string' },
              version: { type: 'string' },
              templateVersion: { type: 'integer' },
              database: { type: 'string' },
              user: { type: 'string' },
              settings: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
        },
      },
    },
    async () => {
      identity ??= engineIdentity(settings);
      return identity;
    },
  );
}
