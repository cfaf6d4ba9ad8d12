import { createHash } from 'node:crypto';
import type { AuditEvent } from '@taidon/contracts';

/** prev_hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth, so equal events hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The fields an event's hash covers, in the form the database gives back
 * (ISO time in milliseconds, lower-case UUIDs), absent ones as null. Chain
 * fields and recorded_at are not covered: they are derived or server-side.
 */
export function hashedFields(event: AuditEvent): Record<string, unknown> {
  return {
    id: event.id.toLowerCase(),
    at: new Date(event.at).toISOString(),
    action: event.action,
    accountId: event.accountId?.toLowerCase() ?? null,
    actorId: event.actorId?.toLowerCase() ?? null,
    target: event.target ?? null,
    ip: event.ip ?? null,
    requestId: event.requestId ?? null,
    detail: event.detail ?? null,
  };
}

/** sha256(prevHash + "\n" + canonical JSON of the event), hex. */
export function chainHash(prevHash: string, event: AuditEvent): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson(hashedFields(event))}`)
    .digest('hex');
}
