import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAvailable } from '../../../snapshot-cache/src/drivers/commands.js';
import {
  asAccount,
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  SERVICE_TOKEN,
  startRunStack,
} from '../helpers/run-stack.js';

// POST /explain (ADR 0031): EXPLAIN (ANALYZE, BUFFERS) of one statement on a throwaway clone, through sql-runner's
// buildApp with a real env-manager and snapshot-cache on btrfs (a session's running instance is snapshotted
// without stopping it only on a driver that snapshots atomically).

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  if (!(await commandAvailable('mkfs.btrfs'))) return 'mkfs.btrfs (btrfs-progs) is not installed';
  return undefined;
}
const reason = await skipReason();

describe.skipIf(reason !== undefined)(`POST /explain${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let stack: RunStack;
  beforeAll(async () => {
    stack = await startRunStack({ warmPoolEmpty: 0, driver: 'btrfs', throwaway: { maxPerAccount: 1, maxTotal: 3 } });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const explain = async (account: string, body: Record<string, unknown>) => {
    const response = await fetch(`${stack.sqlRunnerUrl}/explain`, {
      method: 'POST',
      headers: asAccount(account),
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as any };
  };
  const layerKeys = async (): Promise<string[]> => {
    const layers = (await (
      await fetch(`${stack.cacheUrl}/layers`, { headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN } })
    ).json()) as { key: string }[];
    return layers.map((l) => l.key).sort();
  };
  /**
   * Instances env-manager holds that are not Deleted, of the throwaway owner role, once the deletes the answer
   * did not wait for are done (polled, at most 10 s).
   */
  const liveThrowaways = async () => {
    const live = async () =>
      (
        await stack.envPool.query(
          "SELECT id FROM instances WHERE owner_role = 'throwaway' AND state NOT IN ('Deleted', 'Failed')",
        )
      ).rows;
    for (let i = 0; i < 200 && (await live()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    return live();
  };
  const tail = (table: string) => ({
    sql: `CREATE TABLE ${table} (n int PRIMARY KEY);\nINSERT INTO ${table} SELECT generate_series(1, 3);\n`,
  });

  it("explains an UPDATE on a clone of the session's current state: plan and text, the learner's rows unchanged", async () => {
    const account = newAccount();
    const sessionId = randomUUID();
    const table = `e_${randomUUID().slice(0, 8)}`;
    // The session's state after a head is not cached: the explain takes a private snapshot of its instance.
    await run(stack, account, { sessionId, tail: tail(table), head: `INSERT INTO ${table} VALUES (4);` });
    const instanceBefore = (
      await stack.pool.query<{ instance_id: string; current_key: string }>(
        'SELECT instance_id, current_key FROM sessions WHERE id = $1',
        [sessionId],
      )
    ).rows[0];
    const layersBefore = await layerKeys();

    const answer = await explain(account, { session: sessionId, statement: `UPDATE ${table} SET n = n + 100` });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json.source).toBe('session-snapshot');
    expect(answer.json.layerKey).toBe(instanceBefore?.current_key);
    expect(answer.json.plan.Plan['Node Type']).toBe('ModifyTable');
    expect(answer.json.plan.Plan.Operation).toBe('Update');
    expect(answer.json.plan.Plan.Plans[0]['Actual Rows']).toBe(4); // the session's row 4 is in the state explained
    expect(typeof answer.json.plan['Execution Time']).toBe('number');
    expect(answer.json.plan.Plan).toHaveProperty('Shared Hit Blocks'); // BUFFERS
    expect(answer.json.text).toMatch(new RegExp(`^Update on ${table}`));
    expect(answer.json.text).toMatch(/Execution Time: [0-9.]+ ms/);

    // The learner's instance: the same one, its rows as they were, still at its key.
    const after = await run(stack, account, { sessionId, head: `SELECT n FROM ${table} ORDER BY n;` });
    expect(lastOf(after)).toMatchObject({ outcome: 'ok', source: 'session' });
    expect(rowsOf(after)).toEqual([['1'], ['2'], ['3'], ['4']]);
    const instanceAfter = (
      await stack.pool.query<{ instance_id: string }>('SELECT instance_id FROM sessions WHERE id = $1', [sessionId])
    ).rows[0];
    expect(instanceAfter?.instance_id).toBe(instanceBefore?.instance_id);
    // The private snapshot is gone after its clone (both after the answer); no layer was added or changed.
    expect(await liveThrowaways()).toEqual([]);
    for (let i = 0; i < 100 && (await layerKeys()).length !== layersBefore.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await layerKeys()).toEqual(layersBefore);
  });

  it("explains on the tail's state: built once and cached, then cloned from its layer", async () => {
    const account = newAccount();
    const table = `t_${randomUUID().slice(0, 8)}`;
    const statement = `SELECT count(*) FROM ${table} WHERE n > 1`;
    const first = await explain(account, { tail: tail(table), statement });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.source).toBe('built');
    expect(first.json.plan.Plan['Node Type']).toBe('Aggregate');
    const layers = await layerKeys();
    expect(layers).toContain(first.json.layerKey);
    const second = await explain(account, { tail: tail(table), statement: `DELETE FROM ${table}` });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect(second.json).toMatchObject({ source: 'layer', layerKey: first.json.layerKey });
    expect(second.json.plan.Plan.Plans[0]['Actual Rows']).toBe(3);
    // The DELETE ran on a clone: the layer still has every row.
    const check = await run(stack, account, { tail: tail(table), head: `SELECT count(*) FROM ${table};` });
    expect(lastOf(check)).toMatchObject({ outcome: 'ok', source: 'clone', stepsReplayed: 0 });
    expect(rowsOf(check)).toEqual([['3']]);
    // Every layer there was is still there (the tail's run may add none: its state is cached).
    expect(await layerKeys()).toEqual(layers);
    expect(await liveThrowaways()).toEqual([]);
  });

  it('answers 400 for more than one statement and 422 with the place of a syntax error, before any instance', async () => {
    const account = newAccount();
    const two = await explain(account, { statement: 'SELECT 1; SELECT 2' });
    expect([two.status, two.json.code, two.json.steps]).toEqual([400, 'SQL_RUNNER_EXPLAIN_ONE_STATEMENT', 2]);
    const none = await explain(account, { statement: '-- nothing' });
    expect([none.status, none.json.code]).toEqual([400, 'SQL_RUNNER_EXPLAIN_ONE_STATEMENT']);
    const syntax = await explain(account, { statement: 'SELECT 1 FROM WHERE' });
    expect([syntax.status, syntax.json.code, syntax.json.sqlstate]).toEqual([422, 'SQL_RUNNER_SYNTAX_ERROR', '42601']);
    expect(syntax.json).toMatchObject({ line: 1, column: 15 });
  });

  it("answers the server's error with its SQLSTATE, line and column in the statement", async () => {
    const answer = await explain(newAccount(), { statement: 'SELECT 1\n  FROM no_such_table' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(422);
    expect(answer.json).toMatchObject({
      code: 'SQL_RUNNER_EXPLAIN_SQL_ERROR',
      sqlstate: '42P01',
      path: 'statement.sql',
      line: 2,
      column: 8,
      position: 17,
    });
    const raised = await explain(newAccount(), { statement: 'SELECT 1 / 0' });
    expect([raised.status, raised.json.sqlstate]).toEqual([422, '22012']);
    expect(await liveThrowaways()).toEqual([]);
  });

  it("answers a tail's failing step with its SQLSTATE and place, and leaves no instance behind", async () => {
    const answer = await explain(newAccount(), {
      tail: { sql: 'CREATE TABLE ok_then (n int);\nINSERT INTO missing VALUES (1);\n' },
      statement: 'SELECT 1',
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(422);
    expect(answer.json).toMatchObject({
      code: 'SQL_RUNNER_THROWAWAY_TAIL_FAILED',
      sqlstate: '42P01',
      path: 'query.sql',
      line: 2,
      column: 13,
    });
    expect(await liveThrowaways()).toEqual([]);
  });

  it("answers 404 for another account's session, and 429 with Retry-After past the account's clones", async () => {
    const owner = newAccount();
    const sessionId = randomUUID();
    await run(stack, owner, { sessionId, head: 'SELECT 1' });
    const stranger = await explain(newAccount(), { session: sessionId, statement: 'SELECT 1' });
    expect([stranger.status, stranger.json.code]).toEqual([404, 'SQL_RUNNER_SESSION_NOT_FOUND']);

    const account = newAccount();
    const slow = explain(account, { statement: 'SELECT pg_sleep(1.5)' });
    // The first holds the account's one clone (THROWAWAY_MAX_PER_ACCOUNT 1 here) while it sleeps.
    let refused: Awaited<ReturnType<typeof explain>> | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const second = await explain(account, { statement: 'SELECT 2' });
      if (second.status === 429) refused = second;
    }
    expect(refused?.json.code).toBe('SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY');
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect((await slow).status).toBe(200);
    // Given back: the account explains again.
    expect((await explain(account, { statement: 'SELECT 3' })).status).toBe(200);
    expect(await liveThrowaways()).toEqual([]);
  });
});
