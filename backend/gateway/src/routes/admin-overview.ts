import { OperatorOverview, Problem } from '@taidon/contracts';
import { type ServiceEndpoint, streamRequest } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { authOf, cacheOf, gitOf, instancesOf, layersOf, runsOf } from '../operator-overview.js';
import { parsePrometheusText, type Samples } from '../prometheus-text.js';
import { requireRole } from '../roles.js';

/** Largest `/metrics` answer read; a service's is a few tens of kilobytes. */
const MAX_METRICS_BYTES = 2 * 1024 * 1024;
/** Deadline of one `/metrics` read: the page refreshes every few seconds and must not hang on one service. */
const METRICS_TIMEOUT_MS = 3_000;
/** An overview this young is answered again instead of reading every service anew. */
const OVERVIEW_MAX_AGE_MS = 2_000;

/** Where the overview reads its figures: each service's `/metrics`, and the gateway's own. */
export interface OverviewSources {
  sqlRunner: string;
  envManager: string | undefined;
  snapshotCache: string | undefined;
  vcsSync: string | undefined;
  /** The gateway's own `/metrics` text (refusals it answered). */
  gateway: () => Promise<string>;
}

async function readMetrics(baseUrl: string): Promise<string> {
  const response = await streamRequest(new URL('/metrics', baseUrl), {
    method: 'GET',
    headers: { accept: 'text/plain' },
    timeoutMs: METRICS_TIMEOUT_MS,
  });
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`answered ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_METRICS_BYTES) {
      response.destroy();
      throw new Error(`answered more than ${MAX_METRICS_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  // The read's deadline is the only thing that aborts it (node:http reports the abort, its cause the timeout).
  if (
    error instanceof Error &&
    (error.name === 'TimeoutError' || error.name === 'AbortError' || code === 'ABORT_ERR')
  ) {
    return `no answer within ${METRICS_TIMEOUT_MS} ms`;
  }
  if (typeof code === 'string') return `did not answer (${code})`;
  return error instanceof Error ? error.message : 'did not answer';
}

/** Reads every source at once; a source that is not configured or fails leaves its sections null. */
export async function gatherOverview(sources: OverviewSources): Promise<OperatorOverview> {
  const unavailable: OperatorOverview['unavailable'] = [];
  const read = async (service: string, load: (() => Promise<string>) | undefined): Promise<Samples | undefined> => {
    if (!load) {
      unavailable.push({ service, reason: 'not configured behind this gateway' });
      return undefined;
    }
    try {
      return parsePrometheusText(await load());
    } catch (error) {
      unavailable.push({ service, reason: reasonOf(error) });
      return undefined;
    }
  };
  const from = (baseUrl: string | undefined) => (baseUrl === undefined ? undefined : () => readMetrics(baseUrl));
  const [sqlRunner, envManager, snapshotCache, vcsSync, gateway] = await Promise.all([
    read('sql-runner', from(sources.sqlRunner)),
    read('env-manager', from(sources.envManager)),
    read('snapshot-cache', from(sources.snapshotCache)),
    read('vcs-sync', from(sources.vcsSync)),
    read('gateway', sources.gateway),
  ]);
  return {
    generatedAt: new Date().toISOString(),
    runs: sqlRunner ? runsOf(sqlRunner) : null,
    cache: sqlRunner ? cacheOf(sqlRunner) : null,
    instances: envManager ? instancesOf(envManager) : null,
    layers: snapshotCache ? layersOf(snapshotCache) : null,
    auth: gateway ? authOf(gateway) : null,
    git: vcsSync ? gitOf(vcsSync) : null,
    unavailable,
  };
}

/**
 * One overview shared by every admin asking within OVERVIEW_MAX_AGE_MS, and
 * one read of the services at a time: however many operator pages are open,
 * the services see at most one extra scrape every two seconds.
 */
function sharedOverview(sources: OverviewSources): () => Promise<OperatorOverview> {
  let last: { atMs: number; overview: OperatorOverview } | undefined;
  let pending: Promise<OperatorOverview> | undefined;
  return () => {
    if (last && Date.now() - last.atMs < OVERVIEW_MAX_AGE_MS) return Promise.resolve(last.overview);
    pending ??= gatherOverview(sources)
      .then((overview) => {
        last = { atMs: Date.now(), overview };
        return overview;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** `GET /api/admin/overview`: the operator page's figures. Admin accounts only (403 otherwise). */
export function registerAdminOverviewRoute(
  app: FastifyInstance,
  sources: OverviewSources,
  userProfile: ServiceEndpoint | undefined,
): void {
  const overview = sharedOverview(sources);
  app.get(
    '/api/admin/overview',
    {
      preHandler: requireRole(userProfile, 'admin'),
      schema: {
        summary:
          'Key figures of the platform for operators without Grafana: runs, latency by source, cache, instances by state, layers, refusals, git errors (ADR 0038).',
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        response: { 200: OperatorOverview, 401: Problem, 403: Problem, 503: Problem },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return overview();
    },
  );
}
