import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_WARM_POOL_EMPTY = '1';

async function schemaOf(stack: TestStack, token: string, sessionId: string) {
  const response = await fetch(`${stack.url}/api/sessions/${sessionId}/schema`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('GET /api/sessions/:id/schema', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.signIn();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it("lists the tables and columns of the session's instance for completion", async () => {
    const sessionId = randomUUID();
    const before = await run(stack, token, { sessionId, head: 'SELECT 1;' });
    expect(before.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });
    expect((await schemaOf(stack, token, sessionId)).body).toEqual({ tables: [] });

    await run(stack, token, {
      sessionId,
      head: 'CREATE TABLE pets (id int PRIMARY KEY, name varchar(40));\nCREATE VIEW named AS SELECT name FROM pets;',
    });
    const after = await schemaOf(stack, token, sessionId);
    expect(after.status).toBe(200);
    expect(after.body.tables).toEqual([
      { schema: 'public', name: 'named', kind: 'view', columns: [{ name: 'name', type: 'character varying(40)' }] },
      {
        schema: 'public',
        name: 'pets',
        kind: 'table',
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'name', type: 'character varying(40)' },
        ],
      },
    ]);
  });

  it("answers 404 for another account's session and 401 without a token", async () => {
    const sessionId = randomUUID();
    await run(stack, token, { sessionId, head: 'CREATE TABLE secret (x int);' });
    const intruder = await schemaOf(stack, await stack.signIn(), sessionId);
    expect(intruder.status).toBe(404);
    expect(intruder.body).toMatchObject({ code: 'SQL_RUNNER_SESSION_NOT_FOUND' });
    const anonymous = await fetch(`${stack.url}/api/sessions/${sessionId}/schema`);
    expect(anonymous.status).toBe(401);
  });
});
