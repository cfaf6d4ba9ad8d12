import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreatedShare,
  CreateShareRequest,
  Problem,
  SHARE_ERROR_CODES,
  SHARE_ID_PATTERN,
  SharedState,
  ShareIdParams,
  ShareList,
  type SharePreview,
  shareTitleOf,
  UnplannableProblem,
} from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** Largest share request body, in bytes: a run's (a ~32 MB tail plus JSON escaping). */
const SHARE_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** Characters of the head a preview's description shows. */
const PREVIEW_DESCRIPTION_CHARS = 200;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe inside an HTML attribute or element. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The Open Graph tags of a share page: the head's first line as title, its start as description. */
export function previewTags(head: string): string {
  const title = shareTitleOf(head) || 'Shared SQL';
  const flat = head.replace(/\s+/g, ' ').trim();
  const description =
    flat.length > PREVIEW_DESCRIPTION_CHARS ? `${flat.slice(0, PREVIEW_DESCRIPTION_CHARS - 1)}…` : flat;
  return [
    `<meta property="og:type" content="website">`,
    `<meta property="og:site_name" content="Taidon">`,
    `<meta property="og:title" content="${escapeHtml(title)}">`,
    `<meta property="og:description" content="${escapeHtml(description)}">`,
    `<meta name="twitter:card" content="summary">`,
    `<meta name="robots" content="noindex">`,
  ].join('\n    ');
}

const SHARE_ID = new RegExp(SHARE_ID_PATTERN);

/** index.html with a share's preview: its tags before `</head>`, its title as the page's. */
function withPreview(index: string, head: string): string {
  const title = `${escapeHtml(shareTitleOf(head) || 'Shared SQL')} · Taidon`;
  const tags = previewTags(head);
  // Replacer functions: a replacement string would expand `$&`, `$'` and `` $` `` written in the learner's SQL.
  return index
    .replace(/<title>[^<]*<\/title>/, () => `<title>${title}</title>`)
    .replace('</head>', () => `    ${tags}\n  </head>`);
}

/**
 * `/api/shares*`, answered by sql-runner (ADR 0027): make, list and revoke
 * links with an access token; read one without. Registered inside the API
 * scope, so the public read is limited per client address.
 */
export function registerShareRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Body: CreateShareRequest }>(
    '/api/shares',
    {
      bodyLimit: SHARE_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Share a tail and a head: a link anyone holding it opens, starting from the pinned state of the tail.',
        tags: ['shares'],
        security: [{ bearerAuth: [] }],
        body: CreateShareRequest,
        // A project tail is kept as its scripts were; it is refused as on /api/runs.
        response: { 201: CreatedShare, 401: Problem, 404: Problem, 422: UnplannableProblem, 429: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, '/shares', request.body),
  );
  app.get(
    '/api/shares',
    {
      schema: {
        summary: 'Your live share links, newest first.',
        tags: ['shares'],
        security: [{ bearerAuth: [] }],
        response: { 200: ShareList, 401: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, '/shares'),
  );
  app.get<{ Params: ShareIdParams }>(
    '/api/shares/:id',
    {
      config: { public: true },
      schema: {
        summary: 'A share link: its tail, head and state key. Needs no token; never names its owner.',
        tags: ['shares'],
        params: ShareIdParams,
        response: { 200: SharedState, 404: Problem, 429: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, `/shares/${encodeURIComponent(request.params.id)}`),
  );
  app.delete<{ Params: ShareIdParams }>(
    '/api/shares/:id',
    {
      schema: {
        summary: 'Revoke one of your share links: it answers 404 from now on and its state is unpinned.',
        tags: ['shares'],
        security: [{ bearerAuth: [] }],
        params: ShareIdParams,
        response: { 204: { type: 'null', description: 'Revoked.' }, 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, `/shares/${encodeURIComponent(request.params.id)}`),
  );
}

/**
 * `GET /s/:id`: the SPA's page of a share, with Open Graph tags so a pasted
 * link previews its query; a dead link's page is the SPA answered 404 (it
 * says so itself). Public and inside the API scope, limited per address.
 */
export function registerSharePage(app: FastifyInstance, sqlRunner: ServiceEndpoint, spaDir: string): void {
  app.get<{ Params: { id: string } }>(
    '/s/:id',
    { config: { public: true }, schema: { hide: true } },
    async (request, reply) => {
      let index: string;
      try {
        index = await readFile(join(spaDir, 'index.html'), 'utf8');
      } catch {
        return reply.code(503).type('text/plain').send('The editor is not built: run `npm run build`, then restart.\n');
      }
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
      // No link can have another id: the editor's own "not found", without asking sql-runner.
      if (!SHARE_ID.test(request.params.id)) return reply.code(404).send(index);
      try {
        // The start of the head only: a link's tail and head may be megabytes, its page needs a title.
        const share = await callService<SharePreview>(
          sqlRunner,
          `/shares/${encodeURIComponent(request.params.id)}/preview`,
          { requestId: request.id },
        );
        return reply.send(withPreview(index, share.head));
      } catch (error) {
        if (error instanceof DomainError && error.code === SHARE_ERROR_CODES.notFound) {
          return reply.code(404).send(index);
        }
        throw error;
      }
    },
  );
}
