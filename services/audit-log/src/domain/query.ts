import type { AuditPage, AuditQuery } from '@taidon/contracts';
import type pg from 'pg';
import { InvalidRangeError } from '../errors.js';
import { selectEvents } from '../store/events.js';

/** Page size when the query names none. */
export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;

/** Events matching the query, newest first, one page at a time (the cursor is the last seq seen). */
export async function queryEvents(pool: pg.Pool, query: AuditQuery): Promise<AuditPage> {
  if (query.from && query.to && new Date(query.from) >= new Date(query.to)) throw new InvalidRangeError();
  const limit = Math.min(Number(query.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const events = await selectEvents(pool, {
    limit: limit + 1,
    ...(query.accountId ? { accountId: query.accountId } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
    ...(query.cursor ? { beforeSeq: query.cursor } : {}),
  });
  const page = events.slice(0, limit);
  const last = page[page.length - 1];
  return { events: page, nextCursor: events.length > limit && last ? last.seq : null };
}
