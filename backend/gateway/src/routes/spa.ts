import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { NotFoundError } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the SPA's production bundle is built (`npm run build`), relative to this package. */
export const DEFAULT_SPA_DIR = fileURLToPath(new URL('../../../../frontend/main/dist', import.meta.url));

/** Paths that never fall back to the SPA: they belong to the API and operations (and missing assets stay 404). */
const NOT_SPA = /^\/(api|health|metrics|assets)(\/|$)/;

/** A year: hashed file names change with their content, so they never need revalidating. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the SPA bundle at `/`: hashed assets with a long cache, every other
 * GET outside `/api` answered with index.html (client-side routes), which is
 * always revalidated so a new build is picked up at once. Without a built
 * bundle, `/` says how to build it.
 */
export function registerSpa(app: FastifyInstance, spaDir: string): void {
  const index = join(spaDir, 'index.html');
  if (!existsSync(index)) {
    app.log.warn({ spaDir }, 'no SPA bundle to serve; `npm run build` builds it');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).type('text/plain').send('The editor is not built: run `npm run build`, then restart.\n'),
    );
    return;
  }
  // Assets are looked up per request (a rebuild needs no restart); index.html is sent for every page path.
  const assets = join(spaDir, 'assets');
  app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    cacheControl: false,
    schemaHide: true,
    // sendFile of index.html goes through here too: only hashed assets are immutable.
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.startsWith(assets) ? IMMUTABLE : 'no-cache');
    },
  });
  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (NOT_SPA.test(path)) throw new NotFoundError('NOT_FOUND', `No route for GET ${path}.`);
    return reply.sendFile('index.html', spaDir);
  };
  app.get('/', { schema: { hide: true } }, sendIndex);
  app.get('/*', { schema: { hide: true } }, sendIndex);
}
