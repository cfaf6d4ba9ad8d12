import { KIT_ERROR_CODES, UnprocessableError } from '@taidon/kit';

/** Every code audit-log answers with; each is documented in services/audit-log/README.md (checked by a test). */
export const AUDIT_LOG_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  AUDIT_LOG_DETAIL_TOO_LARGE: 'An event `detail` is larger than 2 KiB once serialized (422).',
  AUDIT_LOG_SECRET_IN_DETAIL:
    'An event `detail` has a key that names a secret or SQL text (password, token, cookie, secret, sql); such values never enter the log (422).',
  AUDIT_LOG_INVALID_RANGE: 'The query `from` is not before `to` (422).',
};

/** An event whose detail is too large for the log. */
export class DetailTooLargeError extends UnprocessableError {
  constructor(eventId: string, sizeBytes: number) {
    super('AUDIT_LOG_DETAIL_TOO_LARGE', `Event ${eventId} has a detail of ${sizeBytes} bytes; the limit is 2048.`, {
      eventId,
    });
  }
}

/** An event whose detail would put a secret or SQL text into the log. */
export class SecretInDetailError extends UnprocessableError {
  constructor(eventId: string, key: string) {
    super('AUDIT_LOG_SECRET_IN_DETAIL', `Event ${eventId} has a detail key "${key}" that may hold a secret or SQL.`, {
      eventId,
      key,
    });
  }
}

/** A query whose time range is empty by construction. */
export class InvalidRangeError extends UnprocessableError {
  constructor() {
    super('AUDIT_LOG_INVALID_RANGE', '`from` must be before `to`.');
  }
}
