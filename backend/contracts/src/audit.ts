import { type Static, Type } from 'typebox';

/**
 * The audit log's vocabulary: what happened, to whom, by whom. Events never
 * carry SQL text, passwords, tokens or cookies; `detail` is a small object of
 * facts (a status, a method, the names of changed fields).
 */
export const AuditAction = Type.Union([
  Type.Literal('sign-in'),
  Type.Literal('sign-in-failed'),
  Type.Literal('sign-up'),
  Type.Literal('sign-out'),
  Type.Literal('upgrade'),
  Type.Literal('instance-created'),
  Type.Literal('instance-deleted'),
  Type.Literal('run'),
  Type.Literal('quota-changed'),
  Type.Literal('role-changed'),
  Type.Literal('admin-action'),
  Type.Literal('share-created'),
  Type.Literal('share-revoked'),
  Type.Literal('project-created'),
  Type.Literal('project-deleted'),
  Type.Literal('project-restored'),
  Type.Literal('project-remote-set'),
  Type.Literal('project-imported'),
  Type.Literal('project-pulled'),
  Type.Literal('project-pushed'),
  Type.Literal('exercise-published'),
  Type.Literal('exercise-unpublished'),
  Type.Literal('exercise-updated'),
]);
export type AuditAction = Static<typeof AuditAction>;

/** One event as a service reports it; `id` is made by the reporter so retries are idempotent. */
export const AuditEvent = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Made by the reporting service; a repeated id is ignored.' }),
    at: Type.String({ format: 'date-time', description: 'When it happened, as the reporter saw it.' }),
    action: AuditAction,
    accountId: Type.Optional(Type.String({ format: 'uuid', description: 'Account the event is about.' })),
    actorId: Type.Optional(Type.String({ format: 'uuid', description: 'Account that acted, when not the same.' })),
    target: Type.Optional(Type.String({ maxLength: 200, description: 'What was acted on (an instance id, a route).' })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    requestId: Type.Optional(Type.String({ maxLength: 128 })),
    detail: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        maxProperties: 20,
        description: 'Small JSON facts, at most 2 KiB; never SQL text, passwords, tokens or cookies.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AuditEvent = Static<typeof AuditEvent>;

/** Body of `POST /events` (audit-log): a batch, as an outbox drains it. */
export const AuditEventBatch = Type.Object(
  { events: Type.Array(AuditEvent, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type AuditEventBatch = Static<typeof AuditEventBatch>;

/** An event as stored: its place in the chain and the hashes that link it. */
export const StoredAuditEvent = Type.Object(
  {
    ...AuditEvent.properties,
    seq: Type.String({ description: 'Position in the chain, 1 first (a string: it is a bigint).' }),
    recordedAt: Type.String({ format: 'date-time' }),
    prevHash: Type.String({ description: 'hash of the previous event (64 zeros for the first).' }),
    hash: Type.String({ description: 'sha256(prevHash + "\\n" + canonical JSON of the event), hex.' }),
  },
  { additionalProperties: false },
);
export type StoredAuditEvent = Static<typeof StoredAuditEvent>;

/** Query of the audit log, newest first. */
export const AuditQuery = Type.Object(
  {
    accountId: Type.Optional(Type.String({ format: 'uuid', description: 'Events about this account.' })),
    action: Type.Optional(AuditAction),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time.' })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: 'Page size, 1–500; default 100.' })),
    cursor: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: '`nextCursor` of the last page.' }),
    ),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

/** One page of events; pass `nextCursor` back as `cursor` for older ones. */
export const AuditPage = Type.Object(
  {
    events: Type.Array(StoredAuditEvent),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Null on the last page.' }),
  },
  { additionalProperties: false },
);
export type AuditPage = Static<typeof AuditPage>;

/** Result of re-hashing the whole chain. */
export const AuditVerification = Type.Object(
  {
    ok: Type.Boolean(),
    checked: Type.Integer({ description: 'Events re-hashed before the first bad one (all of them when ok).' }),
    headHash: Type.Union([Type.String(), Type.Null()], {
      description: 'Hash of the newest event; record it elsewhere to detect a truncated tail later.',
    }),
    firstBadId: Type.Optional(Type.String({ description: 'Id of the first event whose hash does not match.' })),
    firstBadSeq: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AuditVerification = Static<typeof AuditVerification>;
