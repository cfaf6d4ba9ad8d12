import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { run, startTestStack, type TestStack } from './stack.js';

// Small, fast sandboxes for the suite, as runs.test.ts has them.
process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_WARM_POOL_EMPTY = '1';

const TAIL = { sql: 'CREATE TABLE overview_probe (id int PRIMARY KEY);\nINSERT INTO overview_probe VALUES (1), (2);' };

type Overview = Record<string, any>;

const countOf = (rows: { count: number }[] | undefined, where: (row: any) => boolean) =>
  (rows ?? []).filter(where).reduce((total, row) => total + row.count, 0);

/** The overview's states that hold instances, largest first. */
const held = (o: Overview) => o.instances.byState.filter((row: { count: number }) => row.count > 0);

const equalRows = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The instances env-manager holds per state, from its own table: what the overview must show. */
async function instancesByState(stack: TestStack): Promise<{ state: string; count: number }[]> {
  return controlPlane<{ state: string; count: number }>(
    stack,
    'SELECT state, count(*)::int AS count FROM env_manager.instances GROUP BY state ORDER BY count DESC, state',
  );
}

describe('GET /api/admin/overview through the whole platform', () => {
  let stack: TestStack;
  let admin: { id: string; token: string };
  let learner: { id: string; token: string };

  const overview = async (): Promise<Overview> => {
    const response = await api(stack, 'GET', '/api/admin/overview', admin.token);
    expect(response.status).toBe(200);
    return response.body;
  };

  /** Asks again until `done` holds: one overview is shared for 2 s, so a change shows within a few seconds. */
  const overviewWhen = async (done: (o: Overview) => boolean, timeoutMs = 30_000): Promise<Overview> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await overview();
      if (done(current) || Date.now() > deadline) return current;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  /**
   * The overview and env-manager's table of instances, read until they agree (or 30 s): a pool fills beside the
   * test (the empty template's as the platform starts, a layer's after a run) and one overview is shared for 2 s,
   * so a CI run read one instance Creating in the overview and Running in the table just after.
   */
  const agreeingWithTable = async () => {
    let figures = await overview();
    let table = await instancesByState(stack);
    for (const deadline = Date.now() + 30_000; !equalRows(held(figures), table) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      figures = await overview();
      table = await instancesByState(stack);
    }
    return { figures, table };
  };

  beforeAll(async () => {
    stack = await startTestStack();
    admin = await accountWithToken(stack, 'admin');
    learner = await accountWithToken(stack, 'learner');
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('refuses a learner with 403 GATEWAY_FORBIDDEN and a caller without a token with 401', async () => {
    const refused = await api(stack, 'GET', '/api/admin/overview', learner.token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'GATEWAY_FORBIDDEN', status: 403, instance: '/api/admin/overview' });
    const anonymous = await api(stack, 'GET', '/api/admin/overview', undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHORIZED');
    // Both refusals are among the figures the TaidonAuthErrorSpike alert counts.
    const seen = await overviewWhen((o) => o.auth?.forbidden >= 1 && o.auth?.unauthorized >= 1);
    expect(seen.auth.forbidden).toBeGreaterThanOrEqual(1);
    expect(seen.auth.unauthorized).toBeGreaterThanOrEqual(1);
  });

  it('shows every section, with the layer budget and the instances env-manager holds', async () => {
    const { figures, table } = await agreeingWithTable();
    expect(figures.unavailable).toEqual([]);
    for (const section of ['runs', 'cache', 'instances', 'layers', 'auth', 'git']) {
      expect(figures[section], section).not.toBeNull();
      expect(Date.parse(figures[section].startedAt), section).toBeLessThanOrEqual(Date.now());
    }
    expect(figures.layers.budgetBytes).toBe(10 * 1024 ** 3);
    expect(held(figures)).toEqual(table);
    // Every state has its row, held or not, as the dashboard's gauge has.
    expect(figures.instances.byState.map((row: { state: string }) => row.state)).toEqual(
      expect.arrayContaining(['Pending', 'Creating', 'Running', 'Suspended', 'Deleting', 'Failed']),
    );
    expect(figures.git).toMatchObject({ commandErrors: 0, remoteErrors: 0 });
  });

  it('moves after a run: runs +1 with outcome ok, one restore more, a ready time by source, a Running instance', async () => {
    const before = await overview();
    const runningBefore = countOf(before.instances.byState, (row) => row.state === 'Running');
    const lookupsBefore = before.cache.hit + before.cache.partial + before.cache.miss;
    const readyBefore = countOf(before.runs.stateReadyBySource, () => true);

    const result = await run(stack, learner.token, { tail: TAIL, head: 'SELECT count(*) FROM overview_probe;' });
    expect(result.status).toBe(200);
    expect(result.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });

    const after = await overviewWhen((o) => o.runs.total === before.runs.total + 1);
    expect(after.runs.total).toBe(before.runs.total + 1);
    expect(countOf(after.runs.byOutcome, (row) => row.outcome === 'ok')).toBe(
      countOf(before.runs.byOutcome, (row) => row.outcome === 'ok') + 1,
    );
    expect(countOf(after.runs.stateReadyBySource, () => true)).toBe(readyBefore + 1);
    expect(after.runs.head.count).toBe(before.runs.head.count + 1);
    expect(after.cache.hit + after.cache.partial + after.cache.miss).toBe(lookupsBefore + 1);
    expect(after.cache.hitRatio).toBeGreaterThanOrEqual(0);
    // The learner's session keeps its instance (and the pool may refill beside it), as env-manager's table says.
    expect(countOf(after.instances.byState, (row) => row.state === 'Running')).toBeGreaterThan(runningBefore);
    const agreed = await agreeingWithTable();
    expect(held(agreed.figures)).toEqual(agreed.table);
    // The run's tail was snapshotted: the layers and their bytes are the store's.
    const [layers] = await controlPlane<{ count: number; bytes: string }>(
      stack,
      'SELECT count(*)::int AS count, coalesce(sum(size_bytes), 0) AS bytes FROM snapshot_cache.layers',
    );
    expect(after.layers.count).toBe(layers?.count);
    expect(after.layers.count).toBeGreaterThan(before.layers.count);
    expect(after.layers.bytes).toBe(Number(layers?.bytes));
  }, 120_000);
});
