import type { AuditAction, AuditEvent, StoredAuditEvent } from '@taidon/contracts';
import type pg from 'pg';

/** An event with its chain fields, as inserted. */
export interface ChainedEvent extends AuditEvent {
  seq: bigint;
  prevHash: string;
  hash: string;
}

/** Filters of a query; `beforeSeq` is the cursor. */
export interface EventFilter {
  accountId?: string;
  action?: AuditAction;
  from?: string;
  to?: string;
  beforeSeq?: string;
  limit: number;
}

interface Raw {
  seq: string;
  id: string;
  at: Date;
  recorded_at: Date;
  action: AuditAction;
  account_id: string | null;
  actor_id: string | null;
  target: string | null;
  ip: string | null;
  request_id: string | null;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

const optional = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> =>
  value === null ? {} : ({ [key]: value } as Record<K, V>);

/** A row in the contract's shape (absent fields omitted, not null). */
export function toStored(r: Raw): StoredAuditEvent {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    action: r.action,
    ...optional('accountId', r.account_id),
    ...optional('actorId', r.actor_id),
    ...optional('target', r.target),
    ...optional('ip', r.ip),
    ...optional('requestId', r.request_id),
    ...optional('detail', r.detail),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Serializes appends across replicas and connections for the rest of the transaction. */
export async function lockChain(client: pg.ClientBase): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_events'))`);
}

/** The newest event's position and hash, or nothing when the log is empty. */
export async function selectHead(client: pg.ClientBase): Promise<{ seq: bigint; hash: string } | undefined> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1',
  );
  const row = rows[0];
  return row ? { seq: BigInt(row.seq), hash: row.hash } : undefined;
}

/** Which of `ids` are already recorded. */
export async function selectKnownIds(client: pg.ClientBase, ids: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>('SELECT id FROM audit_events WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Inserts chained events in one statement. */
export async function insertEvents(client: pg.ClientBase, events: ChainedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    seq: e.seq.toString(),
    id: e.id,
    at: e.at,
    action: e.action,
    account_id: e.accountId ?? null,
    actor_id: e.actorId ?? null,
    target: e.target ?? null,
    ip: e.ip ?? null,
    request_id: e.requestId ?? null,
    detail: e.detail ?? null,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  await client.query(
    `INSERT INTO audit_events (seq, id, at, action, account_id, actor_id, target, ip, request_id, detail, prev_hash, hash)
     SELECT seq, id, at, action, account_id, actor_id, target, ip, request_id, detail, prev_hash, hash
       FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, id uuid, at timestamptz, action text, account_id uuid,
            actor_id uuid, target text, ip text, request_id text, detail jsonb, prev_hash text, hash text)`,
    [JSON.stringify(rows)],
  );
}

/** Events matching `filter`, newest first. */
export async function selectEvents(pool: pg.Pool, filter: EventFilter): Promise<StoredAuditEvent[]> {
  const { rows } = await pool.query<Raw>(
    `SELECT * FROM audit_events
      WHERE ($1::uuid IS NULL OR account_id = $1)
        AND ($2::text IS NULL OR action = $2)
        AND ($3::timestamptz IS NULL OR at >= $3)
        AND ($4::timestamptz IS NULL OR at < $4)
        AND ($5::bigint IS NULL OR seq < $5)
      ORDER BY seq DESC
      LIMIT $6`,
    [
      filter.accountId ?? null,
      filter.action ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.beforeSeq ?? null,
      filter.limit,
    ],
  );
  return rows.map(toStored);
}

/** Events in chain order after `afterSeq`, at most `limit`, for verification. */
export async function selectChainPage(pool: pg.Pool, afterSeq: string, limit: number): Promise<StoredAuditEvent[]> {
  const { rows } = await pool.query<Raw>('SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [
    afterSeq,
    limit,
  ]);
  return rows.map(toStored);
}
