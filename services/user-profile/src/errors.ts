import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { DomainError, KIT_ERROR_CODES, NotFoundError } from '@taidon/kit';

/** Every code user-profile answers with; each is documented in services/user-profile/README.md (checked by a test). */
export const USER_PROFILE_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  [ACCOUNT_ERROR_CODES.accountNotFound]: 'No account has this id (404).',
  [ACCOUNT_ERROR_CODES.alreadyRegistered]: 'Only an anonymous account can be upgraded; this one is registered (409).',
  [ACCOUNT_ERROR_CODES.emailTaken]: 'Another account already has this email, compared case-insensitively (409).',
  USER_PROFILE_INVALID_CURSOR: 'The `cursor` is not a `nextCursor` this service handed out (400).',
};

/** The account id is unknown. */
export class AccountNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(ACCOUNT_ERROR_CODES.accountNotFound, `No account ${id}.`, { accountId: id });
  }
}

/** An upgrade of an account that is no longer anonymous. */
export class AlreadyRegisteredError extends DomainError {
  constructor(id: string, role: string) {
    super(ACCOUNT_ERROR_CODES.alreadyRegistered, `Account ${id} is already registered (${role}).`, {
      statusCode: 409,
      details: { accountId: id, role },
    });
  }
}

/** The email belongs to another account; the body does not say which. */
export class EmailTakenError extends DomainError {
  constructor() {
    super(ACCOUNT_ERROR_CODES.emailTaken, 'Another account already uses this email.', { statusCode: 409 });
  }
}

/** A list cursor that was not handed out by this service. */
export class InvalidCursorError extends DomainError {
  constructor() {
    super('USER_PROFILE_INVALID_CURSOR', 'The cursor is not valid; start again without one.', { statusCode: 400 });
  }
}
