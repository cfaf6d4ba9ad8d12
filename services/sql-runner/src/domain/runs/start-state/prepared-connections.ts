import pg from 'pg';
import type { EnvManagerClient, PooledInstance } from '../../../clients/env-manager.js';

/** A learner connection opened to a pooled instance before any run asked for it. */
export interface PreparedConnection {
  instanceId: string;
  client: pg.Client;
  broken: boolean;
}

export interface PreparedConnectionsOptions {
  envManager: Pick<EnvManagerClient, 'pooled'>;
  /** How soon the pools are looked at again after a look that found something new, or after a take. */
  intervalMs: number;
  /**
   * The longest wait between two looks (default 2 s): each look that finds nothing new doubles the wait up to
   * this, so an idle platform asks env-manager a few times a minute instead of ten times a second.
   */
  maxIntervalMs?: number;
  /**
   * Connections kept per pool key (default 4): enough for the runs that arrive between two looks; a pool of
   * hundreds would otherwise hold hundreds of idle backends and be listed whole every interval.
   */
  perKey?: number;
  onError?: (error: unknown) => void;
}

const APPLICATION_NAME = 'taidon-learner';

/**
 * Run once on a prepared connection, after its first query: every table of the state's own schemas (at most 64,
 * the smallest first) read (at most 1000 rows) and a plan made of it sorted on every column, so the backend's
 * catalog caches (the relation, its columns, their types, operators and statistics) and the first pages are loaded
 * before a learner's statement needs them (ADR 0052): a fresh backend's first query on a table took 0.7–2 ms more
 * than its second, this leaves ~0.1 ms. Only reads, as the learner's role, in a transaction with its own time limit and
 * rolled back, each table in a block of its own (a table the role may not read, a column that has no sort order,
 * is skipped): the session hands over as it was. Functions are named with their schema, so a state's own
 * functions of the same name stand in for none.
 */
const WARM_CATALOG_SQL = `BEGIN;
SET LOCAL statement_timeout = 2000;
DO $taidon_warm$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.oid::pg_catalog.regclass AS rel,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
     ORDER BY c.relpages, c.oid LIMIT 64
  LOOP
    BEGIN
      EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s LIMIT 1000) s', r.rel);
      IF r.cols IS NOT NULL THEN
        EXECUTE pg_catalog.format('EXPLAIN SELECT * FROM %s ORDER BY %s', r.rel, r.cols);
      END IF;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END LOOP;
END
$taidon_warm$;
ROLLBACK`;
/** How long after a take the looks stay `intervalMs` apart while its key has fewer connections than before it. */
const REFILL_WATCH_MS = 5_000;

/** Pools of fresh templates serve only a miss, which never has a prepared connection to go with it. */
const TEMPLATE_POOL = 'template';

/**
 * Learner connections opened ahead of time to env-manager's warm-pool
 * instances, whatever declared their pools. A run that takes one claims
 * that very instance (env-manager prefers it) and starts its head on a
 * connection whose backend is already forked, authenticated and has run a
 * first query: the connection set-up leaves the run's critical path. The
 * instances stay env-manager's: it may hand one to another runner, in which
 * case the claim returns another instance and the connection is closed.
 */
export class PreparedConnections {
  /** Pool key → instance id → connection, oldest instance first. */
  private readonly ready = new Map<string, Map<string, PreparedConnection>>();
  private readonly opening = new Set<string>();
  /** Instances whose connection a run took, until they leave the pool: not to be connected to again meanwhile. */
  private readonly handedOut = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;
  private closed = false;
  private started = false;
  /** The wait before the next look: `intervalMs` after a change, doubled by every look that changed nothing. */
  private delayMs: number;
  /** When the next look is due (ms since the epoch), for a take to bring it forward. */
  private dueAt = 0;
  /**
   * Keys a connection was taken from: how many connections they had before (`want`), and until when they are
   * watched. Their pools are being refilled, and the looks stay `intervalMs` apart until they have as many again.
   */
  private readonly refilling = new Map<string, { want: number; until: number }>();

  constructor(private readonly options: PreparedConnectionsOptions) {
    this.delayMs = options.intervalMs;
  }

  /**
   * Looks at the pools from now on: again `intervalMs` after a look that found a change, else after twice the
   * last wait, up to `maxIntervalMs`. A take brings the next look to `intervalMs` from now (not at once: the
   * run that took a connection is still claiming its instance, and its refill is not ready for ~100 ms), and
   * the looks stay that close until the key taken from has as many connections as before (at most REFILL_WATCH_MS): a
   * refill that takes a few hundred ms is connected to within `intervalMs` of being ready, where the doubled
   * waits found it up to seconds later and the next grader's attempt in between ran on cold clones.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop();
  }

  private loop(): void {
    if (this.closed) return;
    void this.refresh().then((changed) => {
      const max = this.options.maxIntervalMs ?? 2_000;
      const now = Date.now();
      for (const [key, { want, until }] of this.refilling)
        if (this.readyFor(key) >= want || until <= now) this.refilling.delete(key);
      this.delayMs = changed || this.refilling.size > 0 ? this.options.intervalMs : Math.min(this.delayMs * 2, max);
      this.schedule(this.delayMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.loop();
    }, delayMs).unref();
  }

  /** A connection to an instance of `key` was taken: its pool is being refilled, so the next look comes soon. */
  private soon(key: string): void {
    // Called after the connection left the set: it had one more, unless an earlier take is still being refilled.
    const want = this.refilling.get(key)?.want ?? this.readyFor(key) + 1;
    this.refilling.set(key, { want, until: Date.now() + REFILL_WATCH_MS });
    this.delayMs = this.options.intervalMs;
    if (this.started && this.timer && this.dueAt > Date.now() + this.options.intervalMs) {
      this.schedule(this.options.intervalMs);
    }
  }

  /** How many connections are ready for instances of `key`. */
  readyFor(key: string): number {
    return this.ready.get(key)?.size ?? 0;
  }

  /** A prepared connection to an instance of `key`, oldest first (the order env-manager hands them out). */
  take(key: string): PreparedConnection | undefined {
    const byInstance = this.ready.get(key);
    if (!byInstance) return undefined;
    for (const [id, prepared] of byInstance) {
      byInstance.delete(id);
      if (!prepared.broken) {
        this.handedOut.add(id);
        this.soon(key);
        return prepared;
      }
      void prepared.client.end().catch(() => {});
    }
    return undefined;
  }

  /** The prepared connection to `instanceId`, removed from the set; for a claim that got another instance. */
  takeInstance(instanceId: string): PreparedConnection | undefined {
    for (const [key, byInstance] of this.ready) {
      const prepared = byInstance.get(instanceId);
      if (prepared) {
        byInstance.delete(instanceId);
        this.handedOut.add(instanceId);
        this.soon(key);
        return prepared.broken ? undefined : prepared;
      }
    }
    return undefined;
  }

  /**
   * Looks at the pools once: connects to new instances, drops connections to instances gone from them.
   * Resolves to whether anything changed (a connection opened or dropped); never rejects.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.refreshAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing?.catch(() => {});
    const all = [...this.ready.values()].flatMap((m) => [...m.values()]);
    this.ready.clear();
    await Promise.all(all.map((p) => p.client.end().catch(() => {})));
  }

  private async refreshAll(): Promise<boolean> {
    if (this.closed) return false;
    let pooled: PooledInstance[];
    try {
      pooled = (await this.options.envManager.pooled(this.options.perKey ?? 4)).filter(
        (i) => i.poolKey && i.poolKey !== TEMPLATE_POOL,
      );
    } catch (error) {
      this.options.onError?.(error);
      return false;
    }
    let changed = false;
    const live = new Set(pooled.map((i) => i.id));
    for (const id of this.handedOut) if (!live.has(id)) this.handedOut.delete(id);
    for (const byInstance of this.ready.values()) {
      for (const [id, prepared] of byInstance) {
        if (live.has(id) && !prepared.broken) continue;
        changed = true;
        byInstance.delete(id);
        void prepared.client.end().catch(() => {});
      }
    }
    const known = (id: string) =>
      this.opening.has(id) || this.handedOut.has(id) || [...this.ready.values()].some((m) => m.has(id));
    const fresh = pooled.filter((i) => i.port !== null && !known(i.id));
    // Only a connection made counts as a change: an instance that cannot be reached is tried again at the
    // backed-off pace, not every 100 ms.
    const opened = await Promise.all(fresh.map((instance) => this.open(instance)));
    return changed || opened.includes(true);
  }

  /** Connects to a pooled instance; whether the connection is ready now. */
  private async open(instance: PooledInstance): Promise<boolean> {
    this.opening.add(instance.id);
    const client = new pg.Client({
      host: instance.host ?? '127.0.0.1',
      port: instance.port ?? 0,
      database: instance.database,
      user: instance.user,
      application_name: APPLICATION_NAME,
      connectionTimeoutMillis: 5_000,
    });
    const prepared: PreparedConnection = { instanceId: instance.id, client, broken: false };
    const markBroken = () => {
      prepared.broken = true;
    };
    // A server going away (taken and deleted elsewhere, reconciled) marks it broken, never crashes the process.
    client.on('error', markBroken);
    client.on('end', markBroken);
    try {
      await client.connect();
      // The backend's first query loads its catalog caches; a learner's first statement should not pay for it.
      await client.query('SELECT 1');
      await warmCatalog(client);
      if (this.closed) throw new Error('closed');
      const key = instance.poolKey as string;
      const byInstance = this.ready.get(key) ?? new Map<string, PreparedConnection>();
      this.ready.set(key, byInstance);
      byInstance.set(instance.id, prepared);
      return true;
    } catch {
      await client.end().catch(() => {});
      return false;
    } finally {
      this.opening.delete(instance.id);
    }
  }
}

/**
 * WARM_CATALOG_SQL on a prepared connection. A failure (its time limit, a server that refuses DO) costs only the
 * speed it would have given: the transaction is rolled back, and a connection that cannot even do that is
 * refused like one that did not connect.
 */
export async function warmCatalog(client: pg.Client): Promise<void> {
  try {
    await client.query(WARM_CATALOG_SQL);
  } catch {
    // The statements after the failing one were skipped: the transaction is still open, and ends here.
    await client.query('ROLLBACK');
  }
}
