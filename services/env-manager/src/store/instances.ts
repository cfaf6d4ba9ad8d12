import { EnvManagerApi } from '@taidon/contracts';
import type pg from 'pg';
import type { InstanceState } from '../domain/states.js';

/** An instance as env-manager stores it. */
export interface InstanceRow {
  id: string;
  ownerId: string | null;
  ownerRole: string | null;
  sessionId: string | null;
  state: InstanceState;
  stateChangedAt: Date;
  volumeId: string | null;
  volumePath: string | null;
  port: number | null;
  pid: number | null;
  layerKey: string | null;
  currentKey: string | null;
  pooled: boolean;
  poolKey: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  suspendedAt: Date | null;
}

/** One recorded state change. */
export interface TransitionRow {
  from: InstanceState | null;
  to: InstanceState;
  reason: string;
  at: Date;
}

/** Columns a transition or an update may set, camelCase → column. */
const COLUMNS = {
  ownerId: 'owner_id',
  ownerRole: 'owner_role',
  sessionId: 'session_id',
  volumeId: 'volume_id',
  volumePath: 'volume_path',
  port: 'port',
  pid: 'pid',
  currentKey: 'current_key',
  pooled: 'pooled',
  lastUsedAt: 'last_used_at',
  suspendedAt: 'suspended_at',
} as const;

/** Fields that may change along with a state, or alone. */
export type InstancePatch = Partial<{ [K in keyof typeof COLUMNS]: InstanceRow[K] }>;

function toRow(r: Record<string, any>): InstanceRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    ownerRole: r.owner_role,
    sessionId: r.session_id,
    state: r.state,
    stateChangedAt: r.state_changed_at,
    volumeId: r.volume_id,
    volumePath: r.volume_path,
    port: r.port,
    pid: r.pid,
    layerKey: r.layer_key,
    currentKey: r.current_key,
    pooled: r.pooled,
    poolKey: r.pool_key,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    suspendedAt: r.suspended_at,
  };
}

function setClause(patch: InstancePatch, firstParam: number): { sql: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const column = COLUMNS[field as keyof typeof COLUMNS];
    if (!column || value === undefined) continue;
    values.push(value);
    parts.push(`${column} = $${firstParam + values.length - 1}`);
  }
  return { sql: parts.map((p) => `, ${p}`).join(''), values };
}

/** Who and what a new instance is for. */
export interface NewInstance {
  ownerId: string | null;
  ownerRole: string | null;
  sessionId: string | null;
  layerKey: string | null;
  pooled: boolean;
  poolKey: string | null;
}

/**
 * Records a new instance and its first transition, Pending; with
 * `creatingReason`, already moved on to Creating (both transitions recorded),
 * in one statement.
 */
export async function insertInstance(
  pool: pg.Pool,
  input: NewInstance & { id: string; reason: string; creatingReason?: string },
): Promise<InstanceRow> {
  // Two transitions in one statement get the same now(); their serial ids keep them in order.
  const { rows } = await pool.query(
    `WITH inserted AS (
       INSERT INTO instances (id, owner_id, owner_role, session_id, state, layer_key, current_key, pooled, pool_key)
       VALUES ($1, $2, $3, $4, CASE WHEN $9::text IS NULL THEN 'Pending' ELSE 'Creating' END, $5, $5, $6, $7)
       RETURNING *),
     logged AS (
       INSERT INTO instance_transitions (instance_id, from_state, to_state, reason)
       SELECT id, t.from_state, t.to_state, t.reason FROM inserted,
         (VALUES (1, NULL, 'Pending', $8::text), (2, 'Pending', 'Creating', $9::text)) AS t(n, from_state, to_state, reason)
       WHERE t.reason IS NOT NULL ORDER BY t.n)
     SELECT * FROM inserted`,
    [
      input.id,
      input.ownerId,
      input.ownerRole,
      input.sessionId,
      input.layerKey,
      input.pooled,
      input.poolKey,
      input.reason,
      input.creatingReason ?? null,
    ],
  );
  return toRow(rows[0] as Record<string, unknown>);
}

/**
 * Moves an instance to `to` if it is in one of `from`, setting `patch` and
 * recording the transition with its reason, in one statement; undefined when
 * the instance was not in `from` (someone else moved it first).
 */
export async function transitionInstance(
  pool: pg.Pool,
  id: string,
  from: readonly InstanceState[],
  to: InstanceState,
  reason: string,
  patch: InstancePatch = {},
): Promise<InstanceRow | undefined> {
  const set = setClause(patch, 5);
  const { rows } = await pool.query(
    `WITH previous AS (SELECT id, state FROM instances WHERE id = $1 AND state = ANY($2::text[]) FOR UPDATE),
     updated AS (
       UPDATE instances i SET state = $3, state_changed_at = now()${set.sql}
       FROM previous p WHERE i.id = p.id RETURNING i.*, p.state AS previous_state),
     logged AS (
       INSERT INTO instance_transitions (instance_id, from_state, to_state, reason)
       SELECT id, previous_state, $3, $4 FROM updated)
     SELECT * FROM updated`,
    [id, from, to, reason, ...set.values],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Sets fields without a state change; undefined when the instance is not in `states`. */
export async function updateInstance(
  pool: pg.Pool,
  id: string,
  states: readonly InstanceState[],
  patch: InstancePatch,
): Promise<InstanceRow | undefined> {
  const set = setClause(patch, 3);
  const { rows } = await pool.query(
    `UPDATE instances SET id = id${set.sql} WHERE id = $1 AND state = ANY($2::text[]) RETURNING *`,
    [id, states, ...set.values],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/**
 * Marks many instances used at `at` in one statement, each with its new key where one is given (null keeps
 * the key it has). Only instances in `states` change; the ids of those that did are returned.
 */
export async function markInstancesUsed(
  pool: pg.Pool,
  uses: readonly { id: string; currentKey: string | null }[],
  states: readonly InstanceState[],
  at: Date,
): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `UPDATE instances AS i SET current_key = COALESCE(u.current_key, i.current_key), last_used_at = $3
       FROM unnest($1::uuid[], $2::text[]) AS u(id, current_key)
      WHERE i.id = u.id AND i.state = ANY($4::text[])
  RETURNING i.id`,
    [uses.map((u) => u.id), uses.map((u) => u.currentKey), at, states],
  );
  return rows.map((r) => r.id);
}

/** One instance by id. */
export async function getInstance(pool: pg.Pool, id: string): Promise<InstanceRow | undefined> {
  const { rows } = await pool.query('SELECT * FROM instances WHERE id = $1', [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Instances in any of `states` (all when omitted), oldest first, optionally of one owner. */
export async function listInstances(
  pool: pg.Pool,
  filter: { ownerId?: string; states?: readonly InstanceState[] } = {},
): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM instances
      WHERE ($1::text IS NULL OR owner_id = $1) AND ($2::text[] IS NULL OR state = ANY($2::text[]))
      ORDER BY created_at, id`,
    [filter.ownerId ?? null, filter.states ?? null],
  );
  return rows.map(toRow);
}

/** The transitions of an instance, oldest first. */
export async function listTransitions(pool: pg.Pool, id: string): Promise<TransitionRow[]> {
  const { rows } = await pool.query(
    'SELECT from_state, to_state, reason, at FROM instance_transitions WHERE instance_id = $1 ORDER BY id',
    [id],
  );
  return rows.map((r) => ({ from: r.from_state, to: r.to_state, reason: r.reason, at: r.at }));
}

/**
 * Hands the oldest Running pooled instance of `poolKey` to an owner, or
 * undefined when there is none; SKIP LOCKED lets concurrent takes each get
 * a different one.
 */
export async function claimPooledInstance(
  pool: pg.Pool,
  poolKey: string,
  owner: { ownerId: string; ownerRole: string | null; sessionId: string | null },
  preferId: string | null = null,
): Promise<InstanceRow | undefined> {
  const { rows } = await pool.query(
    `UPDATE instances SET pooled = false, owner_id = $2, owner_role = $3, session_id = $4, last_used_at = now()
      WHERE id = (SELECT id FROM instances WHERE pooled AND state = 'Running' AND pool_key = $1
                   ORDER BY id = $5::uuid IS TRUE DESC, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [poolKey, owner.ownerId, owner.ownerRole, owner.sessionId, preferId],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/**
 * Hands each of the named pooled instances to its own owner, in one statement: those still pooled, Running, of
 * the pool key asked for them and not held by another claim (SKIP LOCKED); the others are left as they are and
 * not answered, for the caller to claim by key as `claimPooledInstance` does.
 */
export async function claimPooledInstancesById(
  pool: pg.Pool,
  wanted: {
    id: string;
    poolKey: string;
    owner: { ownerId: string; ownerRole: string | null; sessionId: string | null };
  }[],
): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `UPDATE instances i
        SET pooled = false, owner_id = w.owner_id, owner_role = w.owner_role, session_id = w.session_id,
            last_used_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
              AS w(id, pool_key, owner_id, owner_role, session_id)
      WHERE i.id = w.id AND i.pool_key = w.pool_key
        AND i.id IN (SELECT id FROM instances WHERE id = ANY($1::uuid[]) AND pooled AND state = 'Running'
                        FOR UPDATE SKIP LOCKED)
      RETURNING i.*`,
    [
      wanted.map((w) => w.id),
      wanted.map((w) => w.poolKey),
      wanted.map((w) => w.owner.ownerId),
      wanted.map((w) => w.owner.ownerRole),
      wanted.map((w) => w.owner.sessionId),
    ],
  );
  return rows.map(toRow);
}

/**
 * Moves up to `limit` Running pooled instances (of `poolKey`, or of every pool), oldest first, to Deleting in
 * one statement, recording `reason`. A row a claim holds is skipped, and a row moved here is no longer
 * claimable, so the pool never deletes an instance it has just handed to a learner; the caller deletes the
 * returned rows' servers and volumes.
 */
export async function retirePooledInstances(
  pool: pg.Pool,
  poolKey: string | null,
  limit: number,
  reason: string,
): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `WITH picked AS (
       SELECT id FROM instances WHERE pooled AND state = 'Running' AND ($1::text IS NULL OR pool_key = $1)
        ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     updated AS (
       UPDATE instances i SET state = 'Deleting', state_changed_at = now()
         FROM picked p WHERE i.id = p.id AND i.pooled AND i.state = 'Running' RETURNING i.*),
     logged AS (
       INSERT INTO instance_transitions (instance_id, from_state, to_state, reason)
       SELECT id, 'Running', 'Deleting', $3 FROM updated)
     SELECT * FROM updated ORDER BY created_at`,
    [poolKey, limit, reason],
  );
  return rows.map(toRow);
}

/** Running pooled instances (of `poolKey`, or of every pool), oldest first: the order claims take them in. */
export async function listPooledInstances(
  pool: pg.Pool,
  poolKey: string | null = null,
  perKey: number | null = null,
): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM (
       SELECT *, row_number() OVER (PARTITION BY pool_key ORDER BY created_at) AS nth FROM instances
        WHERE pooled AND state = 'Running' AND ($1::text IS NULL OR pool_key = $1)) ready
      WHERE $2::int IS NULL OR nth <= $2
      ORDER BY created_at`,
    [poolKey, perKey],
  );
  return rows.map(toRow);
}

/** Running, owned instances of anonymous owners unused for `idleSeconds`. */
export async function listIdleInstances(pool: pg.Pool, idleSeconds: number): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM instances WHERE state = 'Running' AND NOT pooled AND owner_role = 'anonymous'
        AND last_used_at < now() - make_interval(secs => $1) ORDER BY last_used_at`,
    [idleSeconds],
  );
  return rows.map(toRow);
}

/** Suspended instances suspended for longer than `seconds`. */
export async function listExpiredSuspended(pool: pg.Pool, seconds: number): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM instances WHERE state = 'Suspended' AND suspended_at < now() - make_interval(secs => $1)`,
    [seconds],
  );
  return rows.map(toRow);
}

/** Live instances of the `throwaway` owner role created more than `seconds` ago (see EnvManagerApi.THROWAWAY_OWNER_ROLE). */
export async function listExpiredThrowaway(pool: pg.Pool, seconds: number): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM instances WHERE state IN ('Running', 'Suspended') AND owner_role = $2
        AND created_at < now() - make_interval(secs => $1) ORDER BY created_at`,
    [seconds, EnvManagerApi.THROWAWAY_OWNER_ROLE],
  );
  return rows.map(toRow);
}

/** Instances left in Pending, Creating or Deleting longer than `ms`. */
export async function listStuckInstances(pool: pg.Pool, ms: number): Promise<InstanceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM instances WHERE state IN ('Pending', 'Creating', 'Deleting')
        AND state_changed_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [ms],
  );
  return rows.map(toRow);
}

/** Instances per state, for the `taidon_instances` gauge. */
export async function countByState(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM instances GROUP BY state',
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

/** Pooled instances that are starting or ready, per pool key. */
export async function countPooled(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ pool_key: string; n: number }>(
    `SELECT pool_key, count(*)::int AS n FROM instances
      WHERE pooled AND state IN ('Pending', 'Creating', 'Running') GROUP BY pool_key`,
  );
  return Object.fromEntries(rows.map((r) => [r.pool_key, r.n]));
}
