import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAvailable } from '../../../../../snapshot-cache/src/drivers/commands.js';
import {
  type Event,
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  startRunStack,
} from '../../../helpers/run-stack.js';

// A reset (the tail again on the same session) to the layer the session's instance was started from recreates
// its sandbox database from the template database env-manager kept in it (ADR 0029), through POST /runs on
// sql-runner's buildApp with a real env-manager and snapshot-cache on btrfs (the driver that keeps templates).

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  if (!(await commandAvailable('mkfs.btrfs'))) return 'mkfs.btrfs (btrfs-progs) is not installed';
  return undefined;
}
const reason = await skipReason();

describe.skipIf(reason !== undefined)(
  `a reset from the instance's template database${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let stack: RunStack;
    const tail = (table: string) => ({ sql: `CREATE TABLE ${table} (n int);\nINSERT INTO ${table} VALUES (1);\n` });
    const instanceOf = async (sessionId: string) =>
      (await stack.pool.query<{ instance_id: string }>('SELECT instance_id FROM sessions WHERE id = $1', [sessionId]))
        .rows[0]?.instance_id as string;
    const portOf = async (instanceId: string) =>
      (
        await stack.envPool.query<{ port: number; pid: number }>('SELECT port, pid FROM instances WHERE id = $1', [
          instanceId,
        ])
      ).rows[0];
    /** A session whose instance is a clone of the (already cached) layer of `table`'s tail, with a row added since. */
    const sessionOnLayer = async (table: string) => {
      await run(stack, newAccount(), { tail: tail(table), head: 'SELECT 1' }); // builds and caches the state
      const account = newAccount();
      const sessionId = randomUUID();
      const first = await run(stack, account, {
        sessionId,
        tail: tail(table),
        head: `INSERT INTO ${table} VALUES (2);`,
      });
      expect(lastOf(first)).toMatchObject({ outcome: 'ok', source: 'clone', stepsReplayed: 0 });
      return { account, sessionId };
    };

    beforeAll(async () => {
      stack = await startRunStack({ warmPoolEmpty: 0, driver: 'btrfs' });
    }, 180_000);
    afterAll(async () => stack?.close(), 60_000);

    it('brings the state back on the same instance and port: rows written before the reset are gone', async () => {
      const table = `r_${randomUUID().slice(0, 8)}`;
      const { account, sessionId } = await sessionOnLayer(table);
      const more = await run(stack, account, {
        sessionId,
        head: `INSERT INTO ${table} VALUES (3); CREATE TABLE extra ();`,
      });
      expect(lastOf(more)).toMatchObject({ outcome: 'ok', source: 'session' });
      const instanceId = await instanceOf(sessionId);
      const before = await portOf(instanceId);

      const reset = await run(stack, account, {
        sessionId,
        tail: tail(table),
        head: `SELECT n FROM ${table} ORDER BY n; SELECT count(*) FROM pg_tables WHERE tablename = 'extra';`,
      });
      expect(lastOf(reset)).toMatchObject({
        outcome: 'ok',
        source: 'template-reset',
        warmPool: false,
        stepsReplayed: 0,
      });
      expect(rowsOf(reset, 0)).toEqual([['1']]);
      expect(rowsOf(reset, 1)).toEqual([['0']]);
      expect(await instanceOf(sessionId)).toBe(instanceId);
      expect(await portOf(instanceId)).toEqual(before);

      // The session goes on from the reset state, and a second reset works the same.
      const next = await run(stack, account, { sessionId, head: `INSERT INTO ${table} VALUES (4);` });
      expect(lastOf(next)).toMatchObject({ outcome: 'ok', source: 'session' });
      const again = await run(stack, account, { sessionId, tail: tail(table), head: `SELECT n FROM ${table};` });
      expect(lastOf(again)).toMatchObject({ outcome: 'ok', source: 'template-reset' });
      expect(rowsOf(again)).toEqual([['1']]);
    });

    it('keeps the template out of the learner’s reach: no connection, no copy', async () => {
      const table = `l_${randomUUID().slice(0, 8)}`;
      const { sessionId } = await sessionOnLayer(table);
      const { port } = (await portOf(await instanceOf(sessionId))) as { port: number };
      const refused = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'taidon_base' });
      refused.on('error', () => {});
      await expect(refused.connect()).rejects.toMatchObject({ code: '28000' }); // no pg_hba entry for it
      const learner = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'sandbox' });
      await learner.connect();
      try {
        await expect(learner.query('CREATE DATABASE stolen TEMPLATE taidon_base')).rejects.toMatchObject({
          code: '42501',
        });
        await expect(learner.query('ALTER DATABASE taidon_base ALLOW_CONNECTIONS true')).rejects.toMatchObject({
          code: '42501',
        });
        const { rows } = await learner.query(
          `SELECT datallowconn, pg_get_userbyid(datdba) AS owner,
                has_database_privilege('learner', 'taidon_base', 'CONNECT') AS can_connect
           FROM pg_database WHERE datname = 'taidon_base'`,
        );
        expect(rows).toEqual([{ datallowconn: false, owner: 'postgres', can_connect: false }]);
      } finally {
        await learner.end();
      }
    });

    it('refuses a template whose label it cannot read, leaving the instance Running and takes the old path', async () => {
      const table = `u_${randomUUID().slice(0, 8)}`;
      const { account, sessionId } = await sessionOnLayer(table);
      const instanceId = await instanceOf(sessionId);
      const { port } = (await portOf(instanceId)) as { port: number };
      const admin = new pg.Client({
        host: '127.0.0.1',
        port,
        user: 'postgres',
        password: 'run-stack-admin',
        database: 'postgres',
      });
      await admin.connect();
      try {
        await admin.query(`COMMENT ON DATABASE taidon_base IS '{not json'`);
      } finally {
        await admin.end();
      }
      const reset = await run(stack, account, { sessionId, tail: tail(table), head: `SELECT n FROM ${table}` });
      expect(lastOf(reset)).toMatchObject({ outcome: 'ok', source: 'clone' });
      expect(rowsOf(reset)).toEqual([['1']]);
      // The refused instance was never Failed on the way (its sandbox was untouched): it was let go as any
      // replaced instance is.
      const { rows } = await stack.envPool.query<{ to_state: string }>(
        'SELECT to_state FROM instance_transitions WHERE instance_id = $1 ORDER BY id',
        [instanceId],
      );
      expect(rows.map((r) => r.to_state)).not.toContain('Failed');
    });

    it('takes the old path for a tail of another key, and when the learner changed their role since', async () => {
      const table = `o_${randomUUID().slice(0, 8)}`;
      const { account, sessionId } = await sessionOnLayer(table);
      const instanceId = await instanceOf(sessionId);
      const other = await run(stack, account, {
        sessionId,
        tail: { sql: `CREATE TABLE ${table}_b (n int);` },
        head: 'SELECT 1',
      });
      expect(['pool', 'clone']).toContain(lastOf(other).source);
      expect(await instanceOf(sessionId)).not.toBe(instanceId);

      // Back on a clone of the first state; a role setting survives a new database, so it forbids the reset.
      const back = await run(stack, account, { sessionId, tail: tail(table), head: 'SELECT 1' });
      expect(lastOf(back)).toMatchObject({ outcome: 'ok', source: 'clone' });
      const altered = await run(stack, account, { sessionId, head: "ALTER ROLE learner SET work_mem = '1MB';" });
      expect(lastOf(altered)).toMatchObject({ outcome: 'ok', source: 'session' });
      const reset = await run(stack, account, { sessionId, tail: tail(table), head: 'SHOW work_mem;' });
      expect(lastOf(reset)).toMatchObject({ outcome: 'ok', source: 'clone' });
      expect(rowsOf(reset)).not.toEqual([['1MB']]);
      const events = reset.filter((e: Event) => e.type === 'error');
      expect(events).toEqual([]);
    });
  },
);
