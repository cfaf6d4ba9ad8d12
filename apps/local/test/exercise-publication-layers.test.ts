import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { startTestStack, type TestStack } from './stack.js';

// Issue 18 through the whole platform: publishing holds the exercise's states (its start state and each hidden
// dataset) pinned and warm in sql-runner (ADR 0044), attempts take the warm instances and delete them after,
// and unpublishing (DELETE /api/exercises/{id}/publication) lets go of them.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);

const SETUP = `CREATE TABLE items (id int PRIMARY KEY, price int NOT NULL);
INSERT INTO items SELECT g, g * 10 FROM generate_series(1, 5) g;
`;
const HIDDEN = 'UPDATE items SET price = 7 WHERE id = 3;\n';
const SOLUTION = 'SELECT id, price FROM items WHERE price > 15 ORDER BY price, id';

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a publication holds its states pinned and warm (issue 18, ADR 0044)', () => {
  let stack: TestStack;
  let instructor: { id: string; token: string };
  let learner: { id: string; token: string };

  beforeAll(async () => {
    stack = await startTestStack();
    instructor = await accountWithToken(stack, 'instructor');
    learner = await accountWithToken(stack, 'learner');
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const holdsOf = (id: string) =>
    controlPlane<{ key: string; warm: number; pinned: boolean }>(
      stack,
      'SELECT key, warm, pinned FROM sql_runner.layer_holds WHERE holder = $1 ORDER BY key',
      [`exercise:${id}`],
    );
  const layers = (keys: string[]) =>
    controlPlane<{ key: string; pinned: boolean }>(
      stack,
      'SELECT key, pinned FROM snapshot_cache.layers WHERE key = ANY($1) ORDER BY key',
      [keys],
    );
  const pooled = (keys: string[]) =>
    controlPlane<{ id: string; pool_key: string }>(
      stack,
      "SELECT id, pool_key FROM env_manager.instances WHERE pooled AND state = 'Running' AND pool_key = ANY($1)",
      [keys],
    );

  it('pins and warms the states on publish, grades on the warm instances, and lets go on unpublish', async () => {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'cheap-items',
      title: 'Items above 15',
      task: 'Items priced above 15, cheapest first.',
      setup: { sql: SETUP },
      solution: SOLUTION,
      datasets: [{ name: 'cheaper', sql: HIDDEN }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const published = await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token);
    expect(published.status, JSON.stringify(published.body)).toBe(200);

    // Two states held (the start state and the hidden dataset), each pinned and asked one warm instance.
    const holds = await holdsOf(id);
    expect(holds).toHaveLength(2);
    expect(holds.every((h) => h.pinned && h.warm === 1)).toBe(true);
    const keys = holds.map((h) => h.key);
    expect(await layers(keys)).toEqual(keys.map((key) => ({ key, pinned: true })));
    const demand = await controlPlane<{ key: string; size: number }>(
      stack,
      'SELECT key, size FROM env_manager.warm_pool_demand WHERE key = ANY($1) ORDER BY key',
      [keys],
    );
    expect(demand).toEqual(keys.map((key) => ({ key, size: 1 })));
    const ready = await eventually(
      () => pooled(keys),
      (rows) => rows.length === 2,
      'warm instances of both states',
    );

    // An attempt is graded on those very instances, which are deleted after; the pools refill with new ones.
    const attempt = await api(stack, 'POST', `/api/exercises/${id}/attempts`, learner.token, { sql: SOLUTION });
    expect(attempt.status, JSON.stringify(attempt.body)).toBe(200);
    expect(attempt.body.passed).toBe(true);
    const used = await eventually(
      () =>
        controlPlane<{ id: string; state: string; owner_role: string }>(
          stack,
          'SELECT id, state, owner_role FROM env_manager.instances WHERE id = ANY($1) ORDER BY id',
          [ready.map((r) => r.id)],
        ),
      (rows) => rows.every((r) => r.state === 'Deleted'),
      'the warm instances the attempt took',
    );
    expect(used.map((r) => r.owner_role)).toEqual(['throwaway', 'throwaway']);
    await eventually(
      () => pooled(keys),
      (rows) => rows.length === 2 && rows.every((r) => !ready.some((old) => old.id === r.id)),
      'the pools refilled',
    );

    // A learner may not unpublish; the author does, and the states are let go.
    const refused = await api(stack, 'DELETE', `/api/exercises/${id}/publication`, learner.token);
    expect([refused.status, refused.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);
    const unpublished = await api(stack, 'DELETE', `/api/exercises/${id}/publication`, instructor.token);
    expect(unpublished.status, JSON.stringify(unpublished.body)).toBe(204);
    const [exercise] = await controlPlane<{ status: string }>(
      stack,
      'SELECT status FROM exercises.exercises WHERE id = $1',
      [id],
    );
    expect(exercise?.status).toBe('draft');
    expect(await holdsOf(id)).toEqual([]);
    expect(await layers(keys)).toEqual(keys.map((key) => ({ key, pinned: false })));
    await eventually(
      () => pooled(keys),
      (rows) => rows.length === 0,
      'warm instances after the unpublish',
    );
    const audit = await eventually(
      () =>
        controlPlane<{ action: string }>(
          stack,
          "SELECT action FROM audit_log.audit_events WHERE action = 'exercise-unpublished' AND target = $1",
          [id],
        ),
      (rows) => rows.length === 1,
      'the exercise-unpublished audit event',
    );
    expect(audit).toHaveLength(1);

    // Learners no longer see or attempt it; publishing again holds the states anew.
    expect((await api(stack, 'GET', `/api/exercises/${id}`, learner.token)).status).toBe(404);
    const late = await api(stack, 'POST', `/api/exercises/${id}/attempts`, learner.token, { sql: SOLUTION });
    expect([late.status, late.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);
    expect((await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token)).status).toBe(200);
    expect((await holdsOf(id)).map((h) => h.key)).toEqual(keys);
  });
});
