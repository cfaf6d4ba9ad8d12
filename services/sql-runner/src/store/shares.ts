import type { PlanInput, SharedResults } from '@taidon/contracts';
import type pg from 'pg';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** A share link as stored; `tail` is null when the head runs on the empty database. */
export interface ShareRow {
  id: string;
  ownerId: string;
  tail: PlanInput | null;
  head: string;
  stateKey: string;
  /** The results the owner chose to include, or null. */
  results: SharedResults | null;
  pinned: boolean;
  createdAt: Date;
  expiresAt: Date;
}

/** A live row: neither revoked nor past its expiry, as the database's clock sees it. */
const LIVE = 'revoked_at IS NULL AND expires_at > now()';

const COLUMNS = 'id, owner_id, tail, head, state_key, results, pinned, created_at, expires_at';

function shareOf(row: Record<string, unknown>): ShareRow {
  return {
    id: row.id as string,
    ownerId: row.owner_id as string,
    tail: (row.tail as PlanInput | null) ?? null,
    head: row.head as string,
    stateKey: row.state_key as string,
    results: (row.results as SharedResults | null) ?? null,
    pinned: row.pinned as boolean,
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
  };
}

/**
 * Serialises the share decisions of one account (its caps) or one state key
 * (pin and unpin) across replicas, to the end of the caller's transaction.
 */
export async function lockShareScope(client: pg.PoolClient, scope: 'owner' | 'key', value: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`share-${scope}:${value}`]);
}

/** What an account holds and did lately: its live links and their characters, and links made in the last minute. */
export async function shareUsage(
  db: Queryable,
  ownerId: string,
): Promise<{ live: number; liveChars: number; lastMinute: number; oldestInMinuteMs: number | null }> {
  const { rows } = await db.query<{ live: string; live_chars: string; last_minute: string; oldest: Date | null }>(
    `SELECT count(*) FILTER (WHERE ${LIVE}) AS live,
            coalesce(sum(size_chars) FILTER (WHERE ${LIVE}), 0) AS live_chars,
            count(*) FILTER (WHERE created_at > now() - interval '1 minute') AS last_minute,
            min(created_at) FILTER (WHERE created_at > now() - interval '1 minute') AS oldest
       FROM shares WHERE owner_id = $1`,
    [ownerId],
  );
  const row = rows[0];
  return {
    live: Number(row?.live ?? 0),
    liveChars: Number(row?.live_chars ?? 0),
    lastMinute: Number(row?.last_minute ?? 0),
    oldestInMinuteMs: row?.oldest ? row.oldest.getTime() : null,
  };
}

/** Records a new link, live for `ttlSeconds`. */
export async function insertShare(
  db: Queryable,
  share: {
    id: string;
    ownerId: string;
    tail: PlanInput | null;
    head: string;
    stateKey: string;
    results: SharedResults | null;
    sizeChars: number;
  },
  ttlSeconds: number,
): Promise<ShareRow> {
  const { rows } = await db.query(
    `INSERT INTO shares (id, owner_id, tail, head, state_key, results, size_chars, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))
     RETURNING ${COLUMNS}`,
    [
      share.id,
      share.ownerId,
      share.tail,
      share.head,
      share.stateKey,
      share.results === null ? null : JSON.stringify(share.results),
      share.sizeChars,
      ttlSeconds,
    ],
  );
  return shareOf(rows[0] as Record<string, unknown>);
}

/** The live link `id`, or undefined (unknown, revoked or expired alike). */
export async function findLiveShare(db: Queryable, id: string): Promise<ShareRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM shares WHERE id = $1 AND ${LIVE}`, [id]);
  return rows[0] ? shareOf(rows[0] as Record<string, unknown>) : undefined;
}

/** The state key of live link `id` and whether its layer is pinned (not its tail, which may be megabytes). */
export async function findLiveSharePin(
  db: Queryable,
  id: string,
): Promise<{ stateKey: string; pinned: boolean } | undefined> {
  const { rows } = await db.query<{ state_key: string; pinned: boolean }>(
    `SELECT state_key, pinned FROM shares WHERE id = $1 AND ${LIVE}`,
    [id],
  );
  return rows[0] ? { stateKey: rows[0].state_key, pinned: rows[0].pinned } : undefined;
}

/** What a listing shows of a link: its head cut to `headChars`, never its tail (either may be megabytes). */
export type ShareListing = Omit<ShareRow, 'tail' | 'ownerId' | 'results'>;

/** The account's live links, newest first, each head cut to `headChars`. */
export async function listLiveShares(db: Queryable, ownerId: string, headChars: number): Promise<ShareListing[]> {
  const { rows } = await db.query(
    `SELECT id, left(head, $2) AS head, state_key, pinned, created_at, expires_at
       FROM shares WHERE owner_id = $1 AND ${LIVE} ORDER BY created_at DESC, id`,
    [ownerId, headChars],
  );
  return rows.map((row) => ({
    id: row.id as string,
    head: row.head as string,
    stateKey: row.state_key as string,
    pinned: row.pinned as boolean,
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
  }));
}

/** The head of live link `id` cut to `headChars`, or undefined (unknown, revoked or expired alike). */
export async function findLiveShareHead(db: Queryable, id: string, headChars: number): Promise<string | undefined> {
  const { rows } = await db.query<{ head: string }>(
    `SELECT left(head, $2) AS head FROM shares WHERE id = $1 AND ${LIVE}`,
    [id, headChars],
  );
  return rows[0]?.head;
}

/** Revokes the account's live link `id`; its state key, or undefined when it has no such link. */
export async function revokeShare(db: Queryable, id: string, ownerId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ state_key: string }>(
    `UPDATE shares SET revoked_at = now() WHERE id = $1 AND owner_id = $2 AND ${LIVE} RETURNING state_key`,
    [id, ownerId],
  );
  return rows[0]?.state_key;
}

/** Marks the live links of `stateKey` as holding its layer's pin. */
export async function markLivePinned(db: Queryable, stateKey: string): Promise<void> {
  await db.query(`UPDATE shares SET pinned = true WHERE state_key = $1 AND ${LIVE} AND NOT pinned`, [stateKey]);
}

/** Whether a live link of `stateKey`, or a layer hold of it, still holds its layer's pin (then it must stay pinned). */
export async function keyHeldByLiveShare(db: Queryable, stateKey: string): Promise<boolean> {
  // A layer hold (a published exercise's state, store/layer-holds.ts) keeps the pin too: one flag, two kinds of holder.
  const { rows } = await db.query(
    `SELECT 1 FROM shares WHERE state_key = $1 AND pinned AND ${LIVE}
     UNION ALL SELECT 1 FROM layer_holds WHERE key = $1 LIMIT 1`,
    [stateKey],
  );
  return rows.length > 0;
}

/** Dead links (revoked or expired) of `stateKey` let go of its pin. */
export async function releaseDeadPins(db: Queryable, stateKey: string): Promise<void> {
  await db.query(`UPDATE shares SET pinned = false WHERE state_key = $1 AND pinned AND NOT (${LIVE})`, [stateKey]);
}

/** State keys that dead links still hold pinned: what the sweep unpins (at most `limit` per pass). */
export async function keysPinnedByDeadShares(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ state_key: string }>(
    `SELECT DISTINCT state_key FROM shares WHERE pinned AND NOT (${LIVE}) LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.state_key);
}

/** Keys of live links not pinned yet: their layers may have been built since (the sweep pins them). */
export async function keysOfUnpinnedLiveShares(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ state_key: string }>(
    `SELECT DISTINCT state_key FROM shares WHERE NOT pinned AND ${LIVE} LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.state_key);
}

/**
 * Deletes dead links that let go of their pins, once `keepSeconds` have
 * passed since they died (the creation rate counts them until then).
 */
export async function deleteDeadShares(db: Queryable, keepSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM shares
      WHERE NOT pinned AND least(coalesce(revoked_at, expires_at), expires_at) < now() - make_interval(secs => $1)`,
    [keepSeconds],
  );
  return rowCount ?? 0;
}
