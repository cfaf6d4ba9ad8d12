import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code user-profile answers with, its status and its meaning: the error
 * classes below, the README's errors table and test/readme.test.ts all read it.
 * The account codes are named in contracts because idp and the gateway pass them on.
 */
export const USER_PROFILE_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  [ACCOUNT_ERROR_CODES.accountNotFound]: { status: 404, meaning: 'No account has this id.' },
  [ACCOUNT_ERROR_CODES.alreadyRegistered]: {
    status: 409,
    meaning: 'Only an anonymous account can be upgraded; this one is registered.',
  },
  [ACCOUNT_ERROR_CODES.emailTaken]: {
    status: 409,
    meaning: 'Another account already has this email, compared case-insensitively.',
  },
  USER_PROFILE_INVALID_CURSOR: { status: 400, meaning: 'The `cursor` is not a `nextCursor` this service handed out.' },
} as const satisfies ErrorCatalogue;

/** One of user-profile's codes. */
export type UserProfileErrorCode = keyof typeof USER_PROFILE_ERROR_CODES;

/** Every error user-profile throws: its code must be in USER_PROFILE_ERROR_CODES, whose status it answers with. */
export class UserProfileError extends catalogueErrorClass(USER_PROFILE_ERROR_CODES) {}

/** The account id is unknown. */
export class AccountNotFoundError extends UserProfileError {
  constructor(id: string) {
    super(ACCOUNT_ERROR_CODES.accountNotFound, `No account ${id}.`, { details: { accountId: id } });
  }
}

/** An upgrade of an account that is no longer anonymous. */
export class AlreadyRegisteredError extends UserProfileError {
  constructor(id: string, role: string) {
    super(ACCOUNT_ERROR_CODES.alreadyRegistered, `Account ${id} is already registered (${role}).`, {
      details: { accountId: id, role },
    });
  }
}

/** The email belongs to another account; the body does not say which. */
export class EmailTakenError extends UserProfileError {
  constructor() {
    super(ACCOUNT_ERROR_CODES.emailTaken, 'Another account already uses this email.');
  }
}

/** A list cursor that was not handed out by this service. */
export class InvalidCursorError extends UserProfileError {
  constructor() {
    super('USER_PROFILE_INVALID_CURSOR', 'The cursor is not valid; start again without one.');
  }
}
