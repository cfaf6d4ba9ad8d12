import type { FastifyInstance } from 'fastify';
import type { CowDriver } from '../drivers/driver.js';

/** Which driver serves, so env-manager knows whether it must stop a server before a snapshot. */
export function registerDriverRoutes(app: FastifyInstance, driver: CowDriver): void {
  const response = {
    200: {
      type: 'object',
      required: ['name', 'atomicSnapshot', 'rootDir'],
      properties: { name: { type: 'string' }, atomicSnapshot: { type: 'boolean' }, rootDir: { type: 'string' } },
    },
  };
  app.get('/driver', { schema: { response } }, async () => ({
    name: driver.name,
    atomicSnapshot: driver.atomicSnapshot,
    rootDir: driver.rootDir,
  }));
}
