import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { DomainError, KIT_ERROR_CODES, NotFoundError, UnauthorizedError } from '@taidon/kit';

/** Every code idp answers with; each is documented in services/idp/README.md (checked by a test). */
export const IDP_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  IDP_INVALID_CREDENTIALS: 'Wrong email or password; an unknown email answers the same (401).',
  IDP_TOO_MANY_ATTEMPTS: 'Too many failed sign-ins for this email or address; `Retry-After` says when to retry (429).',
  IDP_REFRESH_INVALID: 'The refresh token is missing, unknown, expired or revoked; sign in again (401).',
  IDP_REFRESH_REUSED: 'A rotated refresh token was used again; its whole family is revoked (401).',
  IDP_OIDC_NOT_CONFIGURED: 'No OpenID Connect provider is configured (404).',
  IDP_OIDC_STATE_MISMATCH: 'The callback’s `state` is unknown, expired or already used (400).',
  IDP_OIDC_FAILED: 'The provider’s answer did not pass the checks (code, PKCE, nonce, ID token) (400).',
  IDP_OIDC_ALREADY_LINKED:
    'This provider identity already signs in to another account; it cannot upgrade this one (409).',
  IDP_OIDC_NO_EMAIL: 'The provider gave no email, which registering an account needs (422).',
  [ACCOUNT_ERROR_CODES.emailTaken]: 'Sign-up or upgrade with an email another account has (409, from user-profile).',
  [ACCOUNT_ERROR_CODES.alreadyRegistered]: 'Upgrade of an account that is not anonymous (409, from user-profile).',
  [ACCOUNT_ERROR_CODES.accountNotFound]: 'The account of the token no longer exists (404, from user-profile).',
};

/** Wrong password or unknown email: the same answer, so sign-in does not reveal which emails exist. */
export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('IDP_INVALID_CREDENTIALS', 'The email or the password is wrong.');
  }
}

/** Sign-in refused before checking the password: too many recent failures. */
export class TooManyAttemptsError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('IDP_TOO_MANY_ATTEMPTS', `Too many failed sign-ins; retry in ${retryAfterSeconds} s.`, {
      statusCode: 429,
      details: { retryAfterSeconds },
    });
  }
}

/** A refresh token that cannot be used. */
export class RefreshInvalidError extends UnauthorizedError {
  constructor() {
    super('IDP_REFRESH_INVALID', 'The session has ended; sign in again.');
  }
}

/** A refresh token used a second time: stolen or replayed, so its family is revoked. */
export class RefreshReusedError extends UnauthorizedError {
  constructor() {
    super('IDP_REFRESH_REUSED', 'This session was ended because its refresh token was used twice; sign in again.');
  }
}

/** OIDC routes without a configured provider. */
export class OidcNotConfiguredError extends NotFoundError {
  constructor() {
    super('IDP_OIDC_NOT_CONFIGURED', 'OpenID Connect sign-in is not configured.');
  }
}

/** A callback whose state idp did not hand out (tampered, replayed or expired). */
export class OidcStateMismatchError extends DomainError {
  constructor() {
    super('IDP_OIDC_STATE_MISMATCH', 'The sign-in could not be matched to one this site started; start again.');
  }
}

/** The provider's answer failed a check; the cause stays in the log, not the body. */
export class OidcFailedError extends DomainError {
  constructor(cause: unknown) {
    super('IDP_OIDC_FAILED', 'The identity provider’s answer did not pass the checks; start again.', { cause });
  }
}

/** Upgrade with a provider identity that already belongs to another account. */
export class OidcAlreadyLinkedError extends DomainError {
  constructor() {
    super('IDP_OIDC_ALREADY_LINKED', 'This identity already signs in to another account.', { statusCode: 409 });
  }
}

/** Registration through a provider that shares no email. */
export class OidcNoEmailError extends DomainError {
  constructor() {
    super('IDP_OIDC_NO_EMAIL', 'The identity provider did not share an email address.', { statusCode: 422 });
  }
}
