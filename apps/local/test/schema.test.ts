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

  it("lists the schemas, tables, columns, keys, indexes and row estimates of the session's instance", async () => {
    const sessionId = randomUUID();
    const before = await run(stack, token, { sessionId, head: 'SELECT 1;' });
    expect(before.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });
    expect((await schemaOf(stack, token, sessionId)).body).toEqual({
      schemas: ['public'],
      tables: [],
      truncated: false,
    });

    await run(stack, token, {
      sessionId,
      head: [
        'CREATE SCHEMA shop;',
        'CREATE TABLE pets (id int PRIMARY KEY, name varchar(40) NOT NULL UNIQUE);',
        'CREATE TABLE shop.visits (pet int REFERENCES pets (id), at date);',
        'CREATE INDEX visits_at ON shop.visits (at);',
        "INSERT INTO pets SELECT g, 'p' || g FROM generate_series(1, 300) g;",
        'ANALYZE pets;',
        'CREATE VIEW named AS SELECT name FROM pets;',
        "CREATE TABLE shop.notes AS SELECT g AS id, repeat('n', 40) AS body FROM generate_series(1, 500) g;",
      ].join('\n'),
    });
    const after = await schemaOf(stack, token, sessionId);
    expect(after.status).toBe(200);
    expect(after.body.schemas).toEqual(['public', 'shop']);
    expect(after.body.truncated).toBe(false);
    const notes = after.body.tables.find((t: { name: string }) => t.name === 'notes');
    expect(notes.rowEstimate).toBeGreaterThan(100);
    expect(notes.rowEstimate).toBeLessThan(5_000);
    expect(after.body.tables).toEqual([
      {
        schema: 'public',
        name: 'named',
        kind: 'view',
        rowEstimate: null,
        columns: [{ name: 'name', type: 'character varying(40)', nullable: true }],
        keys: [],
        indexes: [],
      },
      {
        schema: 'public',
        name: 'pets',
        kind: 'table',
        rowEstimate: 300,
        columns: [
          { name: 'id', type: 'integer', nullable: false },
          { name: 'name', type: 'character varying(40)', nullable: false },
        ],
        keys: [
          { name: 'pets_pkey', kind: 'primary', columns: ['id'] },
          { name: 'pets_name_key', kind: 'unique', columns: ['name'] },
        ],
        indexes: [
          {
            name: 'pets_pkey',
            unique: true,
            definition: 'CREATE UNIQUE INDEX pets_pkey ON public.pets USING btree (id)',
          },
          {
            name: 'pets_name_key',
            unique: true,
            definition: 'CREATE UNIQUE INDEX pets_name_key ON public.pets USING btree (name)',
          },
        ],
      },
      {
        schema: 'shop',
        name: 'notes',
        kind: 'table',
        // Never analyzed: the live rows of the statistics, or the planner's guess from the pages on disk.
        rowEstimate: expect.any(Number),
        columns: [
          { name: 'id', type: 'integer', nullable: true },
          { name: 'body', type: 'text', nullable: true },
        ],
        keys: [],
        indexes: [],
      },
      {
        schema: 'shop',
        name: 'visits',
        kind: 'table',
        rowEstimate: expect.any(Number),
        columns: [
          { name: 'pet', type: 'integer', nullable: true },
          { name: 'at', type: 'date', nullable: true },
        ],
        keys: [
          {
            name: 'visits_pet_fkey',
            kind: 'foreign',
            columns: ['pet'],
            references: { schema: 'public', table: 'pets', columns: ['id'] },
          },
        ],
        indexes: [
          { name: 'visits_at', unique: false, definition: 'CREATE INDEX visits_at ON shop.visits USING btree (at)' },
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
