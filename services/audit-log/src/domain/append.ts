import type { AuditEvent } from '@taidon/contracts';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import { DetailTooLargeError, SecretInDetailError } from '../errors.js';
import { type ChainedEvent, insertEvents, lockChain, selectHead, selectKnownIds } from '../store/events.js';
import { canonicalJson, chainHash, GENESIS_HASH, hashedFields } from './chain.js';

/** Largest serialized `detail`, in bytes: the log records facts, not payloads. */
export const MAX_DETAIL_BYTES = 2048;

const SECRET_KEY = /password|passwd|token|cookie|secret|authorization|^sql$|^head$|^tail$|sqltext|script/i;

function findSecretKey(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEY.test(key)) return key;
    const found = findSecretKey(inner);
    if (found) return found;
  }
  return undefined;
}

/** Refuses details that are too large or whose keys name a secret or SQL text. */
export function checkEvent(event: AuditEvent): void {
  if (event.detail === undefined) return;
  const size = Buffer.byteLength(canonicalJson(event.detail));
  if (size > MAX_DETAIL_BYTES) throw new DetailTooLargeError(event.id, size);
  const key = findSecretKey(event.detail);
  if (key) throw new SecretInDetailError(event.id, key);
}

/** What an append did. */
export interface AppendResult {
  /** Events added to the chain. */
  accepted: number;
  /** Events whose id was already recorded (a retry), skipped. */
  duplicates: number;
}

/**
 * Appends a batch to the chain in one transaction under the chain lock:
 * events already recorded (by id) are skipped, the rest get the next
 * positions, each hashed over the previous one. All or nothing.
 */
export async function appendEvents(pool: pg.Pool, events: AuditEvent[]): Promise<AppendResult> {
  for (const event of events) checkEvent(event);
  return withTransaction(pool, async (client) => {
    await lockChain(client);
    const known = await selectKnownIds(
      client,
      events.map((e) => e.id),
    );
    const head = await selectHead(client);
    let seq = head?.seq ?? 0n;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const chained: ChainedEvent[] = [];
    for (const event of events) {
      const fields = hashedFields(event);
      const id = fields.id as string;
      if (known.has(id)) continue;
      known.add(id); // the same id twice in one batch is one event
      seq += 1n;
      const normalized = { ...event, id, at: fields.at as string };
      if (event.accountId) normalized.accountId = event.accountId.toLowerCase();
      if (event.actorId) normalized.actorId = event.actorId.toLowerCase();
      const hash = chainHash(prevHash, normalized);
      chained.push({ ...normalized, seq, prevHash, hash });
      prevHash = hash;
    }
    await insertEvents(client, chained);
    return { accepted: chained.length, duplicates: events.length - chained.length };
  });
}
