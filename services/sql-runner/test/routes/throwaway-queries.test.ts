import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAvailable } from '../../../snapshot-cache/src/drivers/commands.js';
import { asAccount, lastOf, newAccount, type RunStack, rowsOf, run, startRunStack } from '../helpers/run-stack.js';

// POST /throwaway/queries (issue 18, a grader's SQL on throwaway clones, ADR 0031): each entry on a fresh clone
// of the tail's state, through sql-runner's buildApp with a real env-manager and snapshot-cache on btrfs.

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  if (!(await commandAvailable('mkfs.btrfs'))) return 'mkfs.btrfs (btrfs-progs) is not installed';
  return undefined;
}
const reason = await skipReason();

describe.skipIf(reason !== undefined)(`POST /throwaway/queries${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let stack: RunStack;
  beforeAll(async () => {
    stack = await startRunStack({
      warmPoolEmpty: 0,
      driver: 'btrfs',
      throwaway: { maxPerAccount: 2, maxTotal: 4 },
      maxRows: 5,
    });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const queries = async (account: string, body: Record<string, unknown>) => {
    const response = await fetch(`${stack.sqlRunnerUrl}/throwaway/queries`, {
      method: 'POST',
      headers: asAccount(account),
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as any };
  };
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
  const tailOf = (table: string) => ({
    files: [
      { path: 'setup.sql', sql: `CREATE TABLE ${table} (n int PRIMARY KEY, label text);\n` },
      { path: 'data.sql', sql: `INSERT INTO ${table} SELECT g, 'row ' || g FROM generate_series(1, 3) g;\n` },
    ],
  });

  it('runs each entry on its own clone of the state: results as text with type names, a write seen by no other entry', async () => {
    const account = newAccount();
    const table = `q_${randomUUID().slice(0, 8)}`;
    const answer = await queries(account, {
      tail: tailOf(table),
      statements: [
        { sql: `SELECT n, label, n * 1.5 AS half FROM ${table} ORDER BY n` },
        { sql: `DELETE FROM ${table} WHERE n > 1;\nSELECT count(*) FROM ${table}` },
        { sql: `SELECT count(*) FROM ${table}` },
        { sql: `UPDATE ${table} SET label = NULL WHERE n = 2` },
      ],
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json.source).toBe('built');
    const [select, afterDelete, untouched, update] = answer.json.results;
    expect(select).toMatchObject({
      ok: true,
      command: 'SELECT',
      rowCount: 3,
      truncated: false,
      columns: [
        { name: 'n', type: 'integer' },
        { name: 'label', type: 'text' },
        { name: 'half', type: 'numeric' },
      ],
      rows: [
        ['1', 'row 1', '1.5'],
        ['2', 'row 2', '3.0'],
        ['3', 'row 3', '4.5'],
      ],
    });
    expect(afterDelete).toMatchObject({ ok: true, rows: [['1']] });
    // The DELETE was on the second entry's clone only.
    expect(untouched).toMatchObject({ ok: true, rows: [['3']] });
    expect(update).toMatchObject({ ok: true, command: 'UPDATE', rowCount: 1, columns: [], rows: [] });

    // The state is cached since, and the layer was never written: a run on the tail sees every row.
    const again = await queries(account, { tail: tailOf(table), statements: [{ sql: `SELECT 1` }] });
    expect(again.json).toMatchObject({ source: 'layer', layerKey: answer.json.layerKey });
    const check = await run(stack, account, {
      tail: tailOf(table),
      head: `SELECT count(*) FROM ${table} WHERE label IS NOT NULL;`,
    });
    expect(lastOf(check)).toMatchObject({ outcome: 'ok', stepsReplayed: 0 });
    expect(rowsOf(check)).toEqual([['3']]);
    expect(await liveThrowaways()).toEqual([]);
  });

  it("runs an entry's `reads` after its SQL on the same clone, each answered on its own; none after a failed entry", async () => {
    const account = newAccount();
    const table = `t_${randomUUID().slice(0, 8)}`;
    const answer = await queries(account, {
      tail: tailOf(table),
      statements: [
        {
          sql: `UPDATE ${table} SET label = 'changed' WHERE n = 2;\nDELETE FROM ${table} WHERE n = 3`,
          reads: [
            { sql: `SELECT n, label FROM ${table} ORDER BY n` },
            { sql: 'SELECT 1\n  FROM no_such_table' },
            { sql: 'SELECT 1 FROM WHERE' },
            { sql: `SELECT count(*) FROM ${table}` },
          ],
        },
        { sql: `SELECT count(*) FROM ${table}`, reads: [{ sql: `SELECT max(n) FROM ${table}` }] },
        { sql: `DELETE FROM ${table};\nSELECT 1 / 0`, reads: [{ sql: `SELECT count(*) FROM ${table}` }] },
      ],
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const [write, untouched, failed] = answer.json.results;
    expect(write).toMatchObject({ ok: true, command: 'DELETE', rowCount: 1 });
    const [rows, missing, syntax, count] = write.reads;
    expect(rows).toMatchObject({
      ok: true,
      rows: [
        ['1', 'row 1'],
        ['2', 'changed'],
      ],
    });
    expect(missing).toMatchObject({ ok: false, error: { sqlstate: '42P01', line: 2, column: 8 } });
    expect(syntax).toMatchObject({ ok: false, error: { sqlstate: '42601', line: 1, column: 15 } });
    expect(count, JSON.stringify(count)).toMatchObject({ ok: true, rows: [['2']] });
    // The second entry's clone never saw the first's write.
    expect(untouched).toMatchObject({ ok: true, rows: [['3']], reads: [{ ok: true, rows: [['3']] }] });
    expect(failed).toMatchObject({ ok: false, error: { sqlstate: '22012', line: 2 } });
    expect(failed.reads).toBeUndefined();
    const tooMany = await queries(account, {
      statements: [{ sql: 'SELECT 1', reads: Array.from({ length: 5 }, () => ({ sql: 'SELECT 1' })) }],
    });
    expect([tooMany.status, tooMany.json.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await liveThrowaways()).toEqual([]);
  });

  it("answers an entry's error with its SQLSTATE and place, a syntax error too, and the others' results", async () => {
    const answer = await queries(newAccount(), {
      statements: [
        { sql: 'SELECT 1 AS one' },
        { sql: 'SELECT 1\n  FROM no_such_table' },
        { sql: 'SELECT 1 FROM WHERE' },
        { sql: 'SELECT 1 / 0' },
      ],
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const [one, missing, syntax, divide] = answer.json.results;
    expect(one).toMatchObject({ ok: true, rows: [['1']], columns: [{ name: 'one', type: 'integer' }] });
    expect(missing).toMatchObject({ ok: false, error: { sqlstate: '42P01', line: 2, column: 8, position: 17 } });
    expect(syntax).toMatchObject({ ok: false, error: { sqlstate: '42601', line: 1, column: 15 } });
    expect(divide).toMatchObject({ ok: false, error: { sqlstate: '22012' } });
    expect(await liveThrowaways()).toEqual([]);
  });

  it('bounds rows by the runs’ cap and time by the asked limit (a cancelled entry says timedOut)', async () => {
    const answer = await queries(newAccount(), {
      timeoutMs: 300,
      statements: [{ sql: 'SELECT g FROM generate_series(1, 100) g' }, { sql: 'SELECT pg_sleep(5)' }],
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const [many, slow] = answer.json.results;
    expect(many).toMatchObject({ ok: true, truncated: true });
    expect(many.rows).toHaveLength(5);
    expect(slow).toMatchObject({ ok: false, error: { sqlstate: '57014', timedOut: true } });
    expect(slow.ms).toBeLessThan(4000);
    expect(await liveThrowaways()).toEqual([]);
  });

  it('runs a batch of requests at once, each answered as its own request: a result, a failing tail, a refusal', async () => {
    const batch = async (account: string, requests: unknown[]) => {
      const response = await fetch(`${stack.sqlRunnerUrl}/throwaway/query-batches`, {
        method: 'POST',
        headers: asAccount(account),
        body: JSON.stringify({ requests }),
      });
      return { status: response.status, json: (await response.json()) as any };
    };
    const table = `b_${randomUUID().slice(0, 8)}`;
    const mixed = await batch(newAccount(), [
      {
        tail: tailOf(table),
        statements: [{ sql: `DELETE FROM ${table} WHERE n = 1;\nSELECT count(*) FROM ${table}` }],
      },
      {
        tail: { sql: 'CREATE TABLE ok_then (n int);\nINSERT INTO missing VALUES (1);\n' },
        statements: [{ sql: 'SELECT 1' }],
      },
    ]);
    expect(mixed.status, JSON.stringify(mixed.json)).toBe(200);
    const [written, failing] = mixed.json.answers;
    expect(written).toMatchObject({ ok: true, answer: { source: 'built', results: [{ ok: true, rows: [['2']] }] } });
    expect(failing).toMatchObject({
      ok: false,
      statusCode: 422,
      code: 'SQL_RUNNER_THROWAWAY_TAIL_FAILED',
      details: { sqlstate: '42P01', line: 2 },
    });

    // Three requests of an account with 2 slots: as three requests at once would be, one is refused, told when to
    // come back; the others ran on clones of the state, which the first request's DELETE never reached.
    const three = await batch(
      newAccount(),
      Array.from({ length: 3 }, () => ({
        tail: tailOf(table),
        statements: [{ sql: `SELECT count(*) FROM ${table}` }],
      })),
    );
    expect(three.status, JSON.stringify(three.json)).toBe(200);
    const answered = three.json.answers.filter((a: any) => a.ok);
    const refused = three.json.answers.filter((a: any) => !a.ok);
    expect(answered.map((a: any) => [a.answer.source, a.answer.results[0].rows])).toEqual([
      ['layer', [['3']]],
      ['layer', [['3']]],
    ]);
    expect(refused).toEqual([
      {
        ok: false,
        statusCode: 429,
        code: 'SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY',
        message: expect.any(String),
        details: expect.objectContaining({ retryAfterSeconds: 1 }),
      },
    ]);

    const tooMany = await batch(
      newAccount(),
      Array.from({ length: 17 }, () => ({ statements: [{ sql: 'SELECT 1' }] })),
    );
    expect([tooMany.status, tooMany.json.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await liveThrowaways()).toEqual([]);
  });

  it('answers a failing tail as 422 with its place, a bad body as 400, and no account as 401', async () => {
    const failing = await queries(newAccount(), {
      tail: { sql: 'CREATE TABLE ok_then (n int);\nINSERT INTO missing VALUES (1);\n' },
      statements: [{ sql: 'SELECT 1' }],
    });
    expect(failing.status, JSON.stringify(failing.json)).toBe(422);
    expect(failing.json).toMatchObject({ code: 'SQL_RUNNER_THROWAWAY_TAIL_FAILED', sqlstate: '42P01', line: 2 });
    const tooMany = await queries(newAccount(), {
      statements: Array.from({ length: 17 }, () => ({ sql: 'SELECT 1' })),
    });
    expect([tooMany.status, tooMany.json.code]).toEqual([400, 'VALIDATION_FAILED']);
    const headers = asAccount(newAccount());
    delete headers['x-taidon-account'];
    const anonymous = await fetch(`${stack.sqlRunnerUrl}/throwaway/queries`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ statements: [{ sql: 'SELECT 1' }] }),
    });
    expect(anonymous.status).toBe(401);
    expect(await liveThrowaways()).toEqual([]);
  });
});
