import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@taidon/kit';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherOverview } from '../src/routes/admin-overview.js';

// The overview's bounds and partial answers, against real HTTP servers on loopback: one that answers a
// `/metrics` larger than the overview reads, one that never answers, a port nobody listens on, and a source
// that is not configured. The whole platform's figures are tested in apps/local/test/operator-overview.test.ts.

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('gatherOverview', () => {
  const servers: Server[] = [];
  let oversized: string;
  let silent: string;

  beforeAll(async () => {
    const big = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // 3 MiB of comment lines: over the 2 MiB the overview reads from one service.
      const line = `# ${'x'.repeat(1022)}\n`;
      for (let i = 0; i < 3 * 1024; i++) response.write(line);
      response.end();
    });
    const never = await listen(() => {
      // Holds the request without answering: the overview's 3 s deadline must end it.
    });
    servers.push(big.server, never.server);
    oversized = big.url;
    silent = never.url;
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers the sections it could read and names every service it could not, with why', async () => {
    const registry = new Registry();
    new Counter({
      name: 'taidon_http_requests_total',
      help: 'h',
      labelNames: ['status_code'],
      registers: [registry],
    }).inc({ status_code: '403' }, 2);
    const started = Date.now();
    const overview = await gatherOverview({
      sqlRunner: oversized,
      envManager: silent,
      snapshotCache: undefined,
      vcsSync: `http://127.0.0.1:${await freePort()}`,
      gateway: () => registry.metrics(),
    });
    const elapsedMs = Date.now() - started;
    expect(overview).toMatchObject({ runs: null, cache: null, instances: null, layers: null, git: null });
    expect(overview.auth).toMatchObject({ forbidden: 2, unauthorized: 0 });
    expect(Object.fromEntries(overview.unavailable.map((entry) => [entry.service, entry.reason]))).toEqual({
      'sql-runner': `answered more than ${2 * 1024 * 1024} bytes`,
      'env-manager': 'no answer within 3000 ms',
      'snapshot-cache': 'not configured behind this gateway',
      'vcs-sync': 'did not answer (ECONNREFUSED)',
    });
    // The services are read at once: the silent one's deadline bounds the whole overview.
    expect(elapsedMs).toBeGreaterThanOrEqual(2_900);
    expect(elapsedMs).toBeLessThan(10_000);
  }, 20_000);
});
