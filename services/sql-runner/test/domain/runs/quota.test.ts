import { randomUUID } from 'node:crypto';
import { createPool, type DomainError, provisionServiceDatabase } from '@taidon/kit';
import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLeases } from '../../../src/domain/runs/leases.js';
import { RunQuota } from '../../../src/domain/runs/quota.js';
import {
  InstanceQuotaExceededError,
  OpenRunsExceededError,
  RunRateExceededError,
} from '../../../src/domain/runs/quota-errors.js';
import { migrateSqlRunner } from '../../../src/migrate.js';
import { type AdmissionLimits, admitRun, claimInstanceSlot, renewLeases } from '../../../src/store/admissions.js';
import { finishRun, releaseSlot } from '../../../src/store/runs.js';
import { updateSessionState } from '../../../src/store/sessions.js';

const limits: AdmissionLimits = { instances: 1, runsPerMinute: 1000, maxOpenRuns: 1000, leaseSeconds: 30 };
const quotas = { instances: 1, storageBytes: 1, runsPerMinute: 1000, idleTtlSeconds: 60 };
const record = { source: null, layerKey: null, stepsReplayed: 0, errorSqlstate: null, timings: {} };

describe('admission of runs under the quotas, on a real control-plane database', () => {
  let db: TestDatabase;
  /** Two pools, as two sql-runner replicas would have. */
  let pools: [pg.Pool, pg.Pool];
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase('runs_quota');
    const own = await provisionServiceDatabase(db.url, 'sql-runner', `pw-${db.name}`);
    pools = [
      createPool(own.url, { applicationName: 'replica-a', max: 12 }),
      createPool(own.url, { applicationName: 'replica-b', max: 12 }),
    ];
    pool = pools[0];
    await migrateSqlRunner(pool);
  });
  afterAll(async () => {
    for (const p of pools ?? []) await p.end();
    await db?.drop();
  });

  /**
   * An account that ran before. (The first admissions of a new account are serialized by the insert of its
   * row alone, which would hide a missing lock.)
   */
  async function account(): Promise<string> {
    const owner = randomUUID();
    await pool.query('INSERT INTO quota_accounts (owner_id) VALUES ($1)', [owner]);
    return owner;
  }

  /** A session of `ownerId`, with a live instance at `key` (started from layer `startKey`) when `instance` is given. */
  async function session(
    ownerId: string,
    instance?: { id?: string; key?: string | null; startKey?: string; gone?: boolean },
  ): Promise<{ id: string; instanceId: string | null }> {
    const id = randomUUID();
    const instanceId = instance ? (instance.id ?? randomUUID()) : null;
    await pool.query(
      `INSERT INTO sessions (id, owner_id, instance_id, current_key, start_key, instance_gone)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, ownerId, instanceId, instance?.key ?? null, instance?.startKey ?? null, instance?.gone ?? false],
    );
    return { id, instanceId };
  }

  const admit = (
    ownerId: string,
    sessionId: string,
    tailKey: string | null,
    overrides: Partial<AdmissionLimits> = {},
  ) =>
    admitRun(
      pools[Math.round(Math.random())] as pg.Pool,
      { id: randomUUID(), ownerId, sessionId, tailKey },
      {
        ...limits,
        ...overrides,
      },
    );

  /** What the account holds as the quota counts it: live sessions' instances and unfinished runs' slots. */
  async function slotsInUse(ownerId: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM sessions WHERE owner_id = $1 AND instance_id IS NOT NULL AND NOT instance_gone)
            + (SELECT count(*) FROM runs WHERE owner_id = $1 AND holds_slot) AS n`,
      [ownerId],
    );
    return Number(rows[0]?.n);
  }

  it('admits one of 30 simultaneous first runs of an account with one instance, from two replicas', async () => {
    const owner = await account();
    const sessions = await Promise.all(Array.from({ length: 30 }, () => session(owner)));
    const answers = await Promise.all(sessions.map((s) => admit(owner, s.id, null)));
    expect(answers.filter((a) => a.verdict === 'admitted')).toEqual([
      expect.objectContaining({ holdsSlot: true, reclaimed: { sessions: [], instances: [], sweep: [] } }),
    ]);
    expect(answers.filter((a) => a.verdict === 'instances')).toHaveLength(29);
    expect(answers.find((a) => a.verdict === 'instances')).toMatchObject({ held: 1, retryAfterSeconds: 1 });
    expect(await slotsInUse(owner)).toBe(1);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM runs WHERE owner_id = $1', [owner]);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('admits exactly runsPerMinute of many simultaneous runs and says when the next may start', async () => {
    const owner = await account();
    const live = await session(owner, { key: 'k' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => admit(owner, live.id, null, { runsPerMinute: 5 })),
    );
    expect(answers.filter((a) => a.verdict === 'admitted')).toHaveLength(5);
    const refused = answers.filter((a) => a.verdict === 'run-rate');
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect(r.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    expect((await admit(owner, live.id, null, { runsPerMinute: 0 })).verdict).toBe('run-rate');
    // Runs continuing a live instance take no slot.
    expect(await slotsInUse(owner)).toBe(1);
  });

  it('admits maxOpenRuns of many simultaneous runs; an ended run makes room for the next', async () => {
    const owner = await account();
    const live = await session(owner, { key: 'k' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => admit(owner, live.id, 'k', { maxOpenRuns: 4 })));
    expect(answers.filter((a) => a.verdict === 'admitted')).toHaveLength(4);
    expect(answers.filter((a) => a.verdict === 'open-runs')).toHaveLength(6);
    expect(answers.find((a) => a.verdict === 'open-runs')).toMatchObject({ held: 4, retryAfterSeconds: 1 });
    const [open] = (
      await pool.query<{ id: string }>('SELECT id FROM runs WHERE owner_id = $1 AND finished_at IS NULL', [owner])
    ).rows;
    await finishRun(pool, open?.id as string, { outcome: 'ok', ...record });
    expect((await admit(owner, live.id, 'k', { maxOpenRuns: 4 })).verdict).toBe('admitted');
    expect((await admit(owner, live.id, 'k', { maxOpenRuns: 4 })).verdict).toBe('open-runs');
  });

  it('reclaims the least recently used idle session at the quota, and refuses while runs use every instance', async () => {
    const owner = randomUUID();
    const older = await session(owner, { key: 'a' });
    const newer = await session(owner, { key: 'b' });
    await pool.query(`UPDATE sessions SET updated_at = now() - interval '1 hour' WHERE id = $1`, [older.id]);
    const third = await session(owner);
    const admitted = await admit(owner, third.id, null, { instances: 2 });
    expect(admitted).toMatchObject({
      verdict: 'admitted',
      holdsSlot: true,
      reclaimed: { sessions: [older.id], instances: [older.instanceId], sweep: [] },
    });
    const gone = await pool.query('SELECT id, instance_gone FROM sessions WHERE owner_id = $1 ORDER BY id', [owner]);
    expect(gone.rows).toEqual(
      expect.arrayContaining([
        { id: older.id, instance_gone: true },
        { id: newer.id, instance_gone: false },
      ]),
    );
    expect(await slotsInUse(owner)).toBe(2);
    // `newer` is busy with a run of its own, `third` with the admitted one: a fourth session finds no room.
    expect((await admit(owner, newer.id, null, { instances: 2 })).verdict).toBe('admitted');
    const fourth = await session(owner);
    expect(await admit(owner, fourth.id, null, { instances: 2 })).toMatchObject({ verdict: 'instances', held: 2 });
  });

  it('replaces a session’s own instance in its slot at the quota, and beside it below the quota', async () => {
    const owner = randomUUID();
    const own = await session(owner, { key: 'k1' });
    // Continuing at its key needs no slot; another tail does.
    expect(await admit(owner, own.id, 'k1')).toMatchObject({ verdict: 'admitted', holdsSlot: false });
    await pool.query(`UPDATE runs SET finished_at = now() WHERE owner_id = $1`, [owner]);
    expect(await admit(owner, own.id, 'k2')).toMatchObject({
      verdict: 'admitted',
      holdsSlot: true,
      reclaimed: { sessions: [own.id], instances: [own.instanceId] },
    });
    const roomy = randomUUID();
    const other = await session(roomy, { key: 'k1' });
    expect(await admit(roomy, other.id, 'k2', { instances: 2 })).toMatchObject({
      verdict: 'admitted',
      holdsSlot: true,
      reclaimed: { sessions: [], instances: [] },
    });
  });

  it('admits a reset to the layer the session’s instance was started from without a slot (ADR 0029)', async () => {
    const owner = randomUUID();
    // The learner changed the state since (key k2); the tail again (k1) is served on the same instance.
    const own = await session(owner, { key: 'k2', startKey: 'k1' });
    expect(await admit(owner, own.id, 'k1')).toMatchObject({
      verdict: 'admitted',
      holdsSlot: false,
      reclaimed: { sessions: [], instances: [] },
    });
    await pool.query(`UPDATE runs SET finished_at = now() WHERE owner_id = $1`, [owner]);
    // Any other tail still replaces the instance in its slot.
    expect(await admit(owner, own.id, 'k3')).toMatchObject({
      holdsSlot: true,
      reclaimed: { sessions: [own.id], instances: [own.instanceId] },
    });
  });

  it('hands a run’s slot to its session in the statement that points the session at the new instance', async () => {
    const owner = randomUUID();
    const fresh = await session(owner);
    const runId = randomUUID();
    await admitRun(pool, { id: runId, ownerId: owner, sessionId: fresh.id, tailKey: null }, limits);
    expect(await slotsInUse(owner)).toBe(1);
    await updateSessionState(pool, fresh.id, { instanceId: randomUUID(), currentKey: 'k', startKey: null }, runId);
    expect(await slotsInUse(owner)).toBe(1);
    await finishRun(pool, runId, { outcome: 'ok', ...record });
    expect(await slotsInUse(owner)).toBe(1);
  });

  it('keeps the slot of a run that finished while the instance it replaced is deleted, until it gives it back', async () => {
    const owner = await account();
    const own = await session(owner, { key: 'k1' });
    const runId = randomUUID();
    await admitRun(pool, { id: runId, ownerId: owner, sessionId: own.id, tailKey: 'k2' }, { ...limits, instances: 2 });
    expect(await slotsInUse(owner)).toBe(2);
    await finishRun(
      pool,
      runId,
      { outcome: 'ok', ...record },
      { id: own.id, instanceId: randomUUID(), currentKey: 'k2' },
      true,
    );
    // Its session is not reclaimed meanwhile, and its slot still counts: a second session finds no room.
    expect(await slotsInUse(owner)).toBe(2);
    const other = await session(owner);
    expect(await admit(owner, other.id, null, { instances: 2 })).toMatchObject({ verdict: 'instances', held: 2 });
    await releaseSlot(pool, runId);
    expect(await slotsInUse(owner)).toBe(1);
    expect(await admit(owner, other.id, null, { instances: 2 })).toMatchObject({
      verdict: 'admitted',
      holdsSlot: true,
    });
  });

  it('reclaims the runs of a process that died once their leases lapse, and sweeps the sessions they held slots on', async () => {
    const owner = randomUUID();
    const dead = await session(owner);
    const deadRun = randomUUID();
    await admitRun(pool, { id: deadRun, ownerId: owner, sessionId: dead.id, tailKey: null }, limits);
    const live = await session(owner, { key: 'k' });
    const stuck = randomUUID();
    await admitRun(pool, { id: stuck, ownerId: owner, sessionId: live.id, tailKey: 'k' }, limits);
    const other = await session(owner);
    // While leased, the runs are open and use the only slot.
    expect(await admit(owner, other.id, null, { maxOpenRuns: 2 })).toMatchObject({ verdict: 'open-runs' });
    expect(await admit(owner, other.id, null, { instances: 2 })).toMatchObject({ verdict: 'instances', held: 2 });
    // A live process renews them; one that died does not.
    await renewLeases(pool, [deadRun, stuck], 30);
    await pool.query(`UPDATE runs SET lease_until = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [
      [deadRun, stuck],
    ]);
    const admitted = await admit(owner, other.id, null, { maxOpenRuns: 1, instances: 2 });
    // The run that held no slot just ended; the one that did left its session to sweep, which frees the slot.
    expect(admitted).toMatchObject({
      verdict: 'admitted',
      reclaimed: { sessions: [dead.id], instances: [], sweep: [dead.id] },
    });
    const { rows } = await pool.query<{ id: string; outcome: string }>(
      'SELECT id, outcome FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id',
      [[deadRun, stuck]],
    );
    expect(rows.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(await slotsInUse(owner)).toBe(2);
  });

  it('reclaims the runs of a process that was killed at once, by its lock, without waiting for their leases', async () => {
    const owner = await account();
    // Another process: its own connection holds its lock while it lives.
    const other = new pg.Client({ connectionString: pool.options.connectionString });
    await other.connect();
    const key = '1234567890123';
    await other.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    const live = await session(owner, { key: 'k' });
    const fresh = await session(owner);
    await pool.query(`UPDATE sessions SET updated_at = now() - interval '1 hour' WHERE id = $1`, [fresh.id]);
    const roomy = { ...limits, instances: 2 };
    for (const [s, tailKey, holdsSlot] of [
      [live, 'k', false],
      [fresh, null, true],
    ] as const) {
      expect(
        await admitRun(pool, { id: randomUUID(), ownerId: owner, sessionId: s.id, tailKey }, roomy, key),
      ).toMatchObject({ verdict: 'admitted', holdsSlot });
    }
    const third = await session(owner);
    expect(await admit(owner, third.id, null, { maxOpenRuns: 2 })).toMatchObject({ verdict: 'open-runs', held: 2 });
    expect(await admit(owner, third.id, null, { instances: 2 })).toMatchObject({ verdict: 'instances', held: 2 });
    await other.end(); // killed: its connection, and its lock, are gone
    expect(await admit(owner, third.id, null, { maxOpenRuns: 1, instances: 2 })).toMatchObject({
      verdict: 'admitted',
      reclaimed: { sessions: [fresh.id], instances: [], sweep: [fresh.id] },
    });
    const { rows } = await pool.query<{ outcome: string }>(
      'SELECT outcome FROM runs WHERE owner_id = $1 AND session_id <> $2',
      [owner, third.id],
    );
    expect(rows).toEqual([{ outcome: 'failed' }, { outcome: 'failed' }]);
  });

  it('takes a slot for an admitted run that finds its session’s instance gone, when there is room', async () => {
    const owner = randomUUID();
    const own = await session(owner, { key: 'k' });
    const runId = randomUUID();
    expect(await admitRun(pool, { id: runId, ownerId: owner, sessionId: own.id, tailKey: null }, limits)).toMatchObject(
      { verdict: 'admitted', holdsSlot: false },
    );
    // The instance vanished behind the runner's back: the session's own (stale) slot is reclaimed for the run.
    expect(await claimInstanceSlot(pool, runId, 1)).toMatchObject({
      granted: true,
      reclaimed: { sessions: [own.id], instances: [own.instanceId] },
    });
    expect(await slotsInUse(owner)).toBe(1);
    const other = await session(owner);
    const otherRun = randomUUID();
    await admitRun(
      pool,
      { id: otherRun, ownerId: owner, sessionId: other.id, tailKey: null },
      { ...limits, instances: 2 },
    );
    const busy = await session(owner, { key: 'x' });
    const busyRun = randomUUID();
    await admitRun(
      pool,
      { id: busyRun, ownerId: owner, sessionId: busy.id, tailKey: null },
      { ...limits, instances: 3 },
    );
    expect(await claimInstanceSlot(pool, busyRun, 2)).toMatchObject({ granted: false, held: 3 });
  });

  it('answers each refusal as a 429 with its code and Retry-After', async () => {
    const nowhere = { name: 'nowhere', baseUrl: 'http://127.0.0.1:9', serviceToken: 'x', timeoutMs: 100 };
    const quota = new RunQuota({
      userProfile: nowhere,
      envManager: nowhere,
      pool,
      dropConnection: async () => {},
      maxOpenRuns: 2,
    });
    const owner = randomUUID();
    const live = await session(owner, { key: 'k' });
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );
    const first = await quota.admit(randomUUID(), owner, quotas, live, null);
    expect(first).toMatchObject({ holdsSlot: false, ownInstanceReclaimed: false });
    expect(quota.leases.size).toBe(1);
    const fresh = await session(owner);
    const instances = await refusal(quota.admit(randomUUID(), owner, { ...quotas, instances: 0 }, fresh, null));
    expect(instances).toBeInstanceOf(InstanceQuotaExceededError);
    expect(instances).toMatchObject({ code: 'SQL_RUNNER_INSTANCE_QUOTA_EXCEEDED', details: { instances: 0 } });
    await quota.admit(randomUUID(), owner, quotas, live, null);
    const open = await refusal(quota.admit(randomUUID(), owner, quotas, live, null));
    expect(open).toBeInstanceOf(OpenRunsExceededError);
    expect(open).toMatchObject({ code: 'SQL_RUNNER_OPEN_RUNS_EXCEEDED', statusCode: 429, retryAfterSeconds: 1 });
    const rate = await refusal(quota.admit(randomUUID(), owner, { ...quotas, runsPerMinute: 2 }, live, null));
    expect(rate).toBeInstanceOf(RunRateExceededError);
    expect((rate as DomainError).details).toMatchObject({ runsPerMinute: 2 });
    expect(await quota.runsLastMinute(owner)).toBe(2);
    await quota.abandon(first.runId);
    expect(quota.leases.size).toBe(1);
    // The runs carry this process's lock key: held, they are its; let go (the app closes), they are not.
    const { rows } = await pool.query<{ alive: boolean }>(
      'SELECT NOT runner_gone(runner_key) AS alive FROM runs WHERE owner_id = $1 AND finished_at IS NULL',
      [owner],
    );
    expect(rows).toEqual([{ alive: true }]);
    await quota.close();
  });
  it('counts a reclaimed instance again when it could not be deleted, so the account never holds more than its quota', async () => {
    const nowhere = { name: 'nowhere', baseUrl: 'http://127.0.0.1:9', serviceToken: 'x', timeoutMs: 100 };
    const quota = new RunQuota({
      userProfile: nowhere,
      envManager: nowhere,
      pool,
      dropConnection: async () => {},
      maxOpenRuns: 4,
    });
    const owner = await account();
    const idle = await session(owner, { key: 'k' });
    const fresh = await session(owner);
    // The idle session's instance is reclaimed for the new run; env-manager does not answer the delete.
    const error = await quota.admit(randomUUID(), owner, quotas, fresh, null).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ statusCode: 503 });
    const { rows } = await pool.query('SELECT instance_gone FROM sessions WHERE id = $1', [idle.id]);
    expect(rows).toEqual([{ instance_gone: false }]);
    // Still counted: the next admission must reclaim it again rather than start a second instance beside it.
    const next = await admit(owner, fresh.id, null);
    expect(next).toMatchObject({ verdict: 'admitted' });
    expect((next as { reclaimed: { instances: string[] } }).reclaimed.instances).toEqual([idle.instanceId]);
    await quota.close();
  });
});

describe('RunLeases', () => {
  it('renews the open runs together while any is open, and stops when none is', async () => {
    const renewed: string[][] = [];
    const leases = new RunLeases(async (ids) => {
      renewed.push(ids);
    }, 20);
    leases.add('a');
    leases.add('b');
    await new Promise((r) => setTimeout(r, 50));
    expect(renewed.at(-1)).toEqual(['a', 'b']);
    leases.remove('a');
    await new Promise((r) => setTimeout(r, 40));
    expect(renewed.at(-1)).toEqual(['b']);
    leases.remove('b');
    const count = renewed.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(renewed).toHaveLength(count);
  });
});
