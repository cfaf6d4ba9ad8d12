import type { FastifyInstance } from 'fastify';

/** A readiness check: resolves when the dependency answers, rejects with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/**
 * `/health/live` answers as long as the process serves HTTP; `/health/ready`
 * runs every named check and answers 503 with the failing names when any
 * dependency is down, so a load balancer stops sending traffic.
 */
export function registerHealth(app: FastifyInstance, checks: Record<string, ReadinessCheck> = {}): void {
  app.get('/health/live', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { logLevel: 'warn' }, async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : 'failed'] as const;
        }
      }),
    );
    const failing = results.filter(([, outcome]) => outcome !== 'ok');
    reply.code(failing.length === 0 ? 200 : 503);
    return { status: failing.length === 0 ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  });
}
