import { type Static, Type } from 'typebox';

/**
 * Accounts, roles and quotas: owned by user-profile. idp keeps only how an
 * account signs in (password hash, OIDC subject, refresh tokens) keyed by the
 * account id user-profile hands out; every other service asks user-profile.
 */

export const Role = Type.Union([
  Type.Literal('anonymous'),
  Type.Literal('learner'),
  Type.Literal('instructor'),
  Type.Literal('admin'),
]);
export type Role = Static<typeof Role>;

/** Limits of one account: its role's defaults with its own overrides applied. */
export const Quotas = Type.Object(
  {
    instances: Type.Integer({ minimum: 0, description: 'Sandbox instances the account may hold at once.' }),
    storageBytes: Type.Integer({ minimum: 0, description: 'Disk its instances and projects may use.' }),
    runsPerMinute: Type.Integer({ minimum: 0, description: 'Runs it may start per minute.' }),
    idleTtlSeconds: Type.Integer({ minimum: 0, description: 'Idle time before its instances are suspended.' }),
  },
  { additionalProperties: false },
);
export type Quotas = Static<typeof Quotas>;

/** Per-account overrides: any subset of the quotas. */
export const QuotaOverrides = Type.Partial(Quotas, { additionalProperties: false });
export type QuotaOverrides = Static<typeof QuotaOverrides>;

export const Account = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    role: Role,
    email: Type.Union([Type.String(), Type.Null()]),
    displayName: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    upgradedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    quotas: Quotas,
    overrides: QuotaOverrides,
  },
  { additionalProperties: false },
);
export type Account = Static<typeof Account>;

/** Service call: idp creates the account record before it signs anyone in. */
export const CreateAccountRequest = Type.Object(
  {
    role: Type.Union([Type.Literal('anonymous'), Type.Literal('learner')]),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    /** The identity provider vouched for the email (OIDC `email_verified: true`); a password sign-up never does. */
    emailVerified: Type.Optional(Type.Boolean()),
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CreateAccountRequest = Static<typeof CreateAccountRequest>;

/** Service call: an anonymous account becomes a registered learner in place. */
export const UpgradeAccountRequest = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    /** As for CreateAccountRequest: only an identity provider's `email_verified: true`. */
    emailVerified: Type.Optional(Type.Boolean()),
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type UpgradeAccountRequest = Static<typeof UpgradeAccountRequest>;

/** Admin call: change an account's role and/or its quota overrides. */
export const UpdateAccountRequest = Type.Object(
  {
    role: Type.Optional(Role),
    overrides: Type.Optional(QuotaOverrides),
  },
  { additionalProperties: false },
);
export type UpdateAccountRequest = Static<typeof UpdateAccountRequest>;
