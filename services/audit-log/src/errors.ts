import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code audit-log answers with, its status and its meaning: the error
 * classes below, the README's errors table and test/readme.test.ts all read it.
 */
export const AUDIT_LOG_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  AUDIT_LOG_DETAIL_TOO_LARGE: { status: 422, meaning: 'An event `detail` is larger than 2 KiB once serialized.' },
  AUDIT_LOG_SECRET_IN_DETAIL: {
    status: 422,
    meaning:
      'An event `detail` has a key that names a secret or SQL text (password, token, cookie, secret, sql); such values never enter the log.',
  },
  AUDIT_LOG_INVALID_RANGE: { status: 422, meaning: 'The query `from` is not before `to`.' },
} as const satisfies ErrorCatalogue;

/** One of audit-log's codes. */
export type AuditLogErrorCode = keyof typeof AUDIT_LOG_ERROR_CODES;

/** Every error audit-log throws: its code must be in AUDIT_LOG_ERROR_CODES, whose status it answers with. */
export class AuditLogError extends catalogueErrorClass(AUDIT_LOG_ERROR_CODES) {}

/** An event whose detail is too large for the log. */
export class DetailTooLargeError extends AuditLogError {
  constructor(eventId: string, sizeBytes: number) {
    super('AUDIT_LOG_DETAIL_TOO_LARGE', `Event ${eventId} has a detail of ${sizeBytes} bytes; the limit is 2048.`, {
      details: { eventId },
    });
  }
}

/** An event whose detail would put a secret or SQL text into the log. */
export class SecretInDetailError extends AuditLogError {
  constructor(eventId: string, key: string) {
    super('AUDIT_LOG_SECRET_IN_DETAIL', `Event ${eventId} has a detail key "${key}" that may hold a secret or SQL.`, {
      details: { eventId, key },
    });
  }
}

/** A query whose time range is empty by construction. */
export class InvalidRangeError extends AuditLogError {
  constructor() {
    super('AUDIT_LOG_INVALID_RANGE', '`from` must be before `to`.');
  }
}
