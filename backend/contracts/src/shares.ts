import { type Static, Type } from 'typebox';
import { PlanInput, ProjectTailRef } from './plan.js';

/**
 * Share links (ADR 0027): a tail and a head kept under a short, unguessable
 * id. The id is 128 random bits in base64url (22 characters), so knowing a
 * link is the only way to open it; it never names its owner.
 */
export const SHARE_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';

/** Path of a share's page in the SPA, which the gateway serves with Open Graph tags. */
export const SHARE_PAGE_PREFIX = '/s/';

/** A tail that names a share: the run starts from the state the share keeps (its layer, pinned while it lives). */
export const ShareTailRef = Type.Object(
  { share: Type.String({ minLength: 1, maxLength: 64, description: 'Id of a live share link.' }) },
  { additionalProperties: false },
);
export type ShareTailRef = Static<typeof ShareTailRef>;

/** A tail as runs and shares take it: one SQL text, project files, a share's tail, or a project's scripts. */
export const RunTail = Type.Union([PlanInput, ShareTailRef, ProjectTailRef]);
export type RunTail = Static<typeof RunTail>;

/** Characters the results a link carries may take, as JSON: a look at what the query gave, not a data export. */
export const SHARE_RESULTS_MAX_CHARS = 256 * 1024;

/** One result set of the owner's run, as a link carries it when the owner chose to include the results. */
export const SharedResultSet = Type.Object(
  {
    columns: Type.Array(
      Type.Object(
        { name: Type.String({ maxLength: 256 }), type: Type.String({ maxLength: 256 }) },
        { additionalProperties: false },
      ),
      { maxItems: 200 },
    ),
    rows: Type.Array(Type.Array(Type.Union([Type.String(), Type.Null()]), { maxItems: 200 }), { maxItems: 1000 }),
    truncated: Type.Boolean({ description: 'The owner saw more rows than the link keeps.' }),
  },
  { additionalProperties: false },
);
export type SharedResultSet = Static<typeof SharedResultSet>;

/** The result sets a link carries: at most 20, SHARE_RESULTS_MAX_CHARS characters of JSON together. */
export const SharedResults = Type.Array(SharedResultSet, { maxItems: 20 });
export type SharedResults = Static<typeof SharedResults>;

/** `POST /api/shares`: the tail (same shapes as runs; a share's tail is copied) and the head to share. */
export const CreateShareRequest = Type.Object(
  {
    tail: Type.Optional(RunTail),
    head: Type.String({ maxLength: 1024 * 1024, description: 'SQL shown under the tail, run by whoever opens it.' }),
    results: Type.Optional(
      Type.Array(SharedResultSet, {
        maxItems: 20,
        description:
          'The results the owner saw, only when they choose to include them; shown to whoever opens the link until their own run.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateShareRequest = Static<typeof CreateShareRequest>;

/** What `POST /api/shares` answers (201). */
export const CreatedShare = Type.Object(
  {
    id: Type.String({ pattern: SHARE_ID_PATTERN }),
    url: Type.String({ description: 'Path of the share page on this site (`/s/{id}`).' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type CreatedShare = Static<typeof CreatedShare>;

/** `GET /api/shares/{id}` (public): what anyone holding the link sees. Never the owner; results only when included. */
export const SharedState = Type.Object(
  {
    tail: Type.Union([PlanInput, Type.Null()], { description: 'Null when the head runs on the empty database.' }),
    head: Type.String(),
    key: Type.String({ description: 'State key of the tail (K of its last step; K0 without a tail).' }),
    expiresAt: Type.String({ format: 'date-time' }),
    results: Type.Optional(SharedResults),
  },
  { additionalProperties: false },
);
export type SharedState = Static<typeof SharedState>;

/** One of the caller's live links, as `GET /api/shares` lists them. */
export const ShareSummary = Type.Object(
  {
    id: Type.String({ pattern: SHARE_ID_PATTERN }),
    url: Type.String(),
    key: Type.String(),
    title: Type.String({ description: "The head's first non-empty line, at most 120 characters." }),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    pinned: Type.Boolean({ description: "Whether the tail's layer is pinned for the link (false until first built)." }),
  },
  { additionalProperties: false },
);
export type ShareSummary = Static<typeof ShareSummary>;

/** `GET /api/shares`: the caller's live links, newest first. */
export const ShareList = Type.Object({ shares: Type.Array(ShareSummary) }, { additionalProperties: false });
export type ShareList = Static<typeof ShareList>;

/** Characters of a head a share's preview carries: enough for its title and description, never its megabytes. */
export const SHARE_PREVIEW_MAX_CHARS = 4096;

/** sql-runner's `GET /shares/{id}/preview` (for the gateway's share page): the start of the head only. */
export const SharePreview = Type.Object(
  {
    head: Type.String({ maxLength: SHARE_PREVIEW_MAX_CHARS, description: 'The head cut to SHARE_PREVIEW_MAX_CHARS.' }),
  },
  { additionalProperties: false },
);
export type SharePreview = Static<typeof SharePreview>;

/** Path parameters of a share route; any string, so a malformed id is answered 404 like an unknown one. */
export const ShareIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export type ShareIdParams = Static<typeof ShareIdParams>;

/** Stable codes of share answers, shared by sql-runner's catalogue, the gateway and the SPA. */
export const SHARE_ERROR_CODES = {
  notFound: 'SQL_RUNNER_SHARE_NOT_FOUND',
  limitExceeded: 'SQL_RUNNER_SHARE_LIMIT_EXCEEDED',
  rateExceeded: 'SQL_RUNNER_SHARE_RATE_EXCEEDED',
  resultsTooLarge: 'SQL_RUNNER_SHARE_RESULTS_TOO_LARGE',
} as const;

/** Longest title taken from a head (previews cut longer first lines). */
export const SHARE_TITLE_MAX_CHARS = 120;

/** A share's title: the head's first non-empty line, trimmed and cut to SHARE_TITLE_MAX_CHARS. */
export function shareTitleOf(head: string): string {
  const line = head.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > SHARE_TITLE_MAX_CHARS ? `${trimmed.slice(0, SHARE_TITLE_MAX_CHARS - 1)}…` : trimmed;
}
