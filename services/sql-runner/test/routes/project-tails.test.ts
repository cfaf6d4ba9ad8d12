import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAccount, newAccount, type RunStack, startRunStack } from '../helpers/run-stack.js';

// A sql-runner without VCS_SYNC_URL (the run stack passes none): a project tail is refused with its own code on
// every route that takes a tail, before a session, a run or a share is made. The platform's project runs, with
// vcs-sync, are in apps/local/test/project-runs.test.ts.

describe('project tails without vcs-sync', () => {
  let stack: RunStack;
  beforeAll(async () => {
    stack = await startRunStack();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  const call = async (path: string, account: string, body: unknown) => {
    const response = await fetch(`${stack.sqlRunnerUrl}${path}`, {
      method: 'POST',
      headers: asAccount(account),
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  it('answers 503 SQL_RUNNER_PROJECTS_UNAVAILABLE to a plan, a run and a share, and nothing is made', async () => {
    const account = newAccount();
    const tail = { project: randomUUID() };
    for (const [path, body] of [
      ['/plan', tail],
      ['/runs', { tail, head: 'SELECT 1' }],
      ['/shares', { tail, head: 'SELECT 1' }],
    ] as const) {
      const answer = await call(path, account, body);
      expect([answer.status, answer.json.code], path).toEqual([503, 'SQL_RUNNER_PROJECTS_UNAVAILABLE']);
    }
    for (const table of ['sessions', 'runs', 'shares']) {
      const { rows } = await stack.pool.query(`SELECT 1 FROM ${table} WHERE owner_id = $1`, [account]);
      expect(rows, table).toEqual([]);
    }
  });
});
