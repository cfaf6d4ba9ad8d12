import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SnapshotCacheApi as Api } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { CowDriver } from '../drivers/driver.js';

/** Which driver serves, so env-manager knows whether it must stop a server before a snapshot. */
export function registerDriverRoutes(app: FastifyInstance, driver: CowDriver): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get('/driver', { schema: { response: { 200: Api.DriverInfo } } }, async () => ({
      name: driver.name,
      atomicSnapshot: driver.atomicSnapshot,
      rootDir: driver.rootDir,
    }));
}
