import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EnvManagerApi as Api } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { type EngineIdentity, engineIdentity, type TemplateSettings } from '../engine/template.js';

/** `GET /engine`: the template identity sql-runner puts in its base state key. */
export function registerEngineRoutes(app: FastifyInstance, settings: TemplateSettings): void {
  let identity: Promise<EngineIdentity> | undefined;
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/engine', { schema: { response: { 200: Api.EngineInfo } } }, async () => {
      identity ??= engineIdentity(settings);
      return identity;
    });
}
