import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code idp answers with, its status and its meaning: the error classes
 * below, the README's errors table and test/readme.test.ts all read it. The
 * account codes are user-profile's, passed on as it answered them.
 */
export const IDP_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  IDP_INVALID_CREDENTIALS: { status: 401, meaning: 'Wrong email or password; an unknown email answers the same.' },
  IDP_TOO_MANY_ATTEMPTS: {
    status: 429,
    meaning: 'Too many failed sign-ins for this email or address; `Retry-After` says when to retry.',
  },
  IDP_REFRESH_INVALID: {
    status: 401,
    meaning: 'The refresh token is missing, unknown, expired or revoked; sign in again.',
  },
  IDP_REFRESH_REUSED: { status: 401, meaning: 'A rotated refresh token was used again; its whole family is revoked.' },
  IDP_OIDC_NOT_CONFIGURED: { status: 404, meaning: 'No OpenID Connect provider is configured.' },
  IDP_OIDC_STATE_MISMATCH: { status: 400, meaning: 'The callback’s `state` is unknown, expired or already used.' },
  IDP_OIDC_FAILED: {
    status: 400,
    meaning: 'The provider’s answer did not pass the checks (code, PKCE, nonce, ID token).',
  },
  IDP_OIDC_ALREADY_LINKED: {
    status: 409,
    meaning: 'This provider identity already signs in to another account; it cannot upgrade this one.',
  },
  IDP_OIDC_NO_EMAIL: { status: 422, meaning: 'The provider gave no email, which registering an account needs.' },
  [ACCOUNT_ERROR_CODES.emailTaken]: {
    status: 409,
    meaning: 'Sign-up or upgrade with an email another account has (from user-profile).',
  },
  [ACCOUNT_ERROR_CODES.alreadyRegistered]: {
    status: 409,
    meaning: 'Upgrade of an account that is not anonymous (from user-profile).',
  },
  [ACCOUNT_ERROR_CODES.accountNotFound]: {
    status: 404,
    meaning: 'The account of the token no longer exists (from user-profile).',
  },
} as const satisfies ErrorCatalogue;

/** One of idp's codes. */
export type IdpErrorCode = keyof typeof IDP_ERROR_CODES;

/** Every error idp throws: its code must be in IDP_ERROR_CODES, whose status it answers with. */
export class IdpError extends catalogueErrorClass(IDP_ERROR_CODES) {}

/** Wrong password or unknown email: the same answer, so sign-in does not reveal which emails exist. */
export class InvalidCredentialsError extends IdpError {
  constructor() {
    super('IDP_INVALID_CREDENTIALS', 'The email or the password is wrong.');
  }
}

/** Sign-in refused before checking the password: too many recent failures. */
export class TooManyAttemptsError extends IdpError {
  constructor(readonly retryAfterSeconds: number) {
    super('IDP_TOO_MANY_ATTEMPTS', `Too many failed sign-ins; retry in ${retryAfterSeconds} s.`, {
      details: { retryAfterSeconds },
    });
  }
}

/** A refresh token that cannot be used. */
export class RefreshInvalidError extends IdpError {
  constructor() {
    super('IDP_REFRESH_INVALID', 'The session has ended; sign in again.');
  }
}

/** A refresh token used a second time: stolen or replayed, so its family is revoked. */
export class RefreshReusedError extends IdpError {
  constructor() {
    super('IDP_REFRESH_REUSED', 'This session was ended because its refresh token was used twice; sign in again.');
  }
}

/** OIDC routes without a configured provider. */
export class OidcNotConfiguredError extends IdpError {
  constructor() {
    super('IDP_OIDC_NOT_CONFIGURED', 'OpenID Connect sign-in is not configured.');
  }
}

/** A callback whose state idp did not hand out (tampered, replayed or expired). */
export class OidcStateMismatchError extends IdpError {
  constructor() {
    super('IDP_OIDC_STATE_MISMATCH', 'The sign-in could not be matched to one this site started; start again.');
  }
}

/** The provider's answer failed a check; the cause stays in the log, not the body. */
export class OidcFailedError extends IdpError {
  constructor(cause: unknown) {
    super('IDP_OIDC_FAILED', 'The identity provider’s answer did not pass the checks; start again.', { cause });
  }
}

/** Upgrade with a provider identity that already belongs to another account. */
export class OidcAlreadyLinkedError extends IdpError {
  constructor() {
    super('IDP_OIDC_ALREADY_LINKED', 'This identity already signs in to another account.');
  }
}

/** Registration through a provider that shares no email. */
export class OidcNoEmailError extends IdpError {
  constructor() {
    super('IDP_OIDC_NO_EMAIL', 'The identity provider did not share an email address.');
  }
}
