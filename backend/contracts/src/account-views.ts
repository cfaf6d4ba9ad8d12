import { type Static, Type } from 'typebox';
import { Account, Quotas, Role } from './accounts.js';

/**
 * Stable codes other services and the SPA switch on when accounts and quotas
 * say no. Kept here so idp, sql-runner and the gateway name them once.
 */
export const ACCOUNT_ERROR_CODES = {
  /** No account has this id (404, user-profile). */
  accountNotFound: 'USER_PROFILE_ACCOUNT_NOT_FOUND',
  /** Upgrade of an account that is not anonymous (409, user-profile). */
  alreadyRegistered: 'USER_PROFILE_ALREADY_REGISTERED',
  /** Another account already has this email (409, user-profile). */
  emailTaken: 'USER_PROFILE_EMAIL_TAKEN',
  /** The caller's role may not use this route (403, gateway). */
  forbidden: 'GATEWAY_FORBIDDEN',
  /** No instance of the caller has this id, including other accounts' instances (404, gateway). */
  instanceNotFound: 'GATEWAY_INSTANCE_NOT_FOUND',
  /** More runs started in the last minute than the account's runsPerMinute (429 + Retry-After, sql-runner). */
  runRateExceeded: 'SQL_RUNNER_RUN_RATE_EXCEEDED',
  /** A new instance would exceed the account's instances quota (429, sql-runner). */
  instanceQuotaExceeded: 'SQL_RUNNER_INSTANCE_QUOTA_EXCEEDED',
} as const;

/** One page of accounts, oldest first; pass `nextCursor` back as `cursor` for the next page. */
export const AccountList = Type.Object(
  {
    accounts: Type.Array(Account),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Null on the last page.' }),
  },
  { additionalProperties: false },
);
export type AccountList = Static<typeof AccountList>;

/** Query of the admin account list. */
export const AccountListQuery = Type.Object(
  {
    role: Type.Optional(Role),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: 'Page size, 1–500; default 50.' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page.' })),
  },
  { additionalProperties: false },
);
export type AccountListQuery = Static<typeof AccountListQuery>;

/** An instance of the caller, as `/api/instances` and `/api/me` show it (no credentials). */
export const InstanceSummary = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    state: Type.String({ description: 'Pending, Creating, Running, Suspended, Deleting or Failed.' }),
    sessionId: Type.Union([Type.String(), Type.Null()]),
    currentKey: Type.Union([Type.String(), Type.Null()], { description: 'State key the instance is at.' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.String({ format: 'date-time' }),
    suspendedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type InstanceSummary = Static<typeof InstanceSummary>;

/** What the caller uses now, against its quotas. */
export const Usage = Type.Object(
  {
    instances: Type.Integer({ minimum: 0, description: 'Instances held (every state but Deleted and Failed).' }),
    runsLastMinute: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
      description: 'Runs started in the last minute; null where sql-runner enforces no run rate.',
    }),
  },
  { additionalProperties: false },
);
export type Usage = Static<typeof Usage>;

/** `GET /api/me`: the caller's account (role, quotas, overrides) and its usage. */
export const MeResponse = Type.Object(
  { account: Account, usage: Usage, instances: Type.Array(InstanceSummary) },
  { additionalProperties: false },
);
export type MeResponse = Static<typeof MeResponse>;

/** Default quotas of every role (user-profile `GET /roles/quotas`). */
export const RoleQuotas = Type.Object(
  { anonymous: Quotas, learner: Quotas, instructor: Quotas, admin: Quotas },
  { additionalProperties: false },
);
export type RoleQuotas = Static<typeof RoleQuotas>;
