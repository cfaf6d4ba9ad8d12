import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api, controlPlane } from './accounts-helpers.js';
import { rowsOf, run, startTestStack, type TestStack } from './stack.js';

// Issue 18 through the whole platform: write and DDL exercises graded by the state the answer leaves (the
// answer, then the state reads, on one throwaway clone per dataset), PUT of a draft and of a published
// exercise, and the instructors' view grouping wrong answers by what they returned.

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.INSTANCE_DISK_MAX_BYTES = String(96 * 1024 ** 2);
process.env.RUN_DATABASE_MAX_BYTES = String(96 * 1024 ** 2);

const SHOP = `CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10,2) NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, product_id int NOT NULL REFERENCES products, qty int NOT NULL);
INSERT INTO products VALUES (1, 'tea', 'drinks', 4.00), (2, 'coffee', 'drinks', 5.50), (3, 'bread', 'bakery', 3.20);
INSERT INTO orders VALUES (1, 1, 2), (2, 3, 1);
`;
/** Another state of the same schema: more categories, one spelled close to 'drinks'. */
const MORE_PRODUCTS = `TRUNCATE orders, products;
INSERT INTO products VALUES (1, 'juice', 'drinks', 2.00), (2, 'cake', 'bakery', 7.00), (3, 'soap', 'drinks-free', 1.00),
  (4, 'water', 'drinks', 0.50);
`;
const RAISE = "UPDATE products SET price = price * 1.10 WHERE category = 'drinks'";

describe('write and DDL exercises, drafts changed, wrong answers grouped (issue 18)', () => {
  let stack: TestStack;
  let instructor: { id: string; token: string };
  let otherInstructor: { id: string; token: string };
  let learner: { id: string; token: string };
  let secondLearner: { id: string; token: string };
  let raiseId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    instructor = await accountWithToken(stack, 'instructor');
    otherInstructor = await accountWithToken(stack, 'instructor');
    learner = await accountWithToken(stack, 'learner');
    secondLearner = await accountWithToken(stack, 'learner');
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const liveThrowaways = async () => {
    const live = () =>
      controlPlane(
        stack,
        "SELECT id FROM env_manager.instances WHERE owner_role = 'throwaway' AND state NOT IN ('Deleted', 'Failed')",
      );
    for (let i = 0; i < 200 && (await live()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    return live();
  };
  const attempt = (id: string, sql: string, token = learner.token) =>
    api(stack, 'POST', `/api/exercises/${id}/attempts`, token, { sql });

  it('publishes a write exercise after measuring its mutants by the state they leave: the dropped WHERE is killed', async () => {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'raise-drinks',
      title: 'Raise the drinks',
      task: 'Raise the price of every product of the category `drinks` by 10 %.',
      setup: { sql: SHOP },
      solution: RAISE,
      datasets: [{ name: 'more-products', sql: MORE_PRODUCTS }],
      compare: { tables: ['products'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ kind: 'write', compare: { tables: ['products'] }, status: 'draft' });
    const published = await api(stack, 'POST', `/api/exercises/${created.body.id}/publish`, instructor.token);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    const { report } = published.body;
    console.log(
      `publish of raise-drinks: ${report.killed}/${report.killed + report.survivors.length} killed, ${report.mutants} mutants, ${report.stillborn} stillborn, ${report.ms} ms; survivors: ${report.survivors.map((m: { label: string }) => m.label).join(' | ')}`,
    );
    expect(report.mutants).toBeGreaterThan(3);
    const survivors = report.survivors.map((m: { label: string }) => m.label);
    expect(survivors).not.toContain('WHERE dropped');
    expect(survivors).not.toContain("category = 'drinks' → category <> 'drinks' (in WHERE)");
    expect(report.killed).toBeGreaterThanOrEqual(3);
    // The publication keeps the state the reference left on each dataset, what attempts are compared with.
    const [publication] = await controlPlane<{ names: string[]; kind: string }>(
      stack,
      "SELECT array(SELECT r->>'name' FROM jsonb_array_elements(reference_results) r) AS names, content->>'kind' AS kind FROM exercises.publications WHERE exercise_id = $1",
      [created.body.id],
    );
    expect(publication).toEqual({ names: ['start', 'more-products'], kind: 'write' });
    raiseId = created.body.id;
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);

  it('grades a write by the state it leaves: right written otherwise, WHERE dropped, another table changed, an error', async () => {
    const right = await attempt(
      raiseId,
      "UPDATE products\n   SET price = round(price * 1.1, 2)\n WHERE category IN ('drinks')",
    );
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(right.body).toMatchObject({
      passed: true,
      checks: [
        { dataset: 'start', passed: true },
        { dataset: 'hidden-1', passed: true },
      ],
    });
    console.log(`write attempt graded on start + 1 hidden dataset in ${right.body.timings.totalMs} ms`);

    const noWhere = await attempt(raiseId, 'UPDATE products SET price = price * 1.10');
    expect(noWhere.body.passed).toBe(false);
    const [start, hidden] = noWhere.body.checks;
    expect(start).toMatchObject({
      dataset: 'start',
      passed: false,
      reason: 'tables',
      tables: [
        {
          table: 'public.products',
          missingCount: 1,
          extraCount: 1,
          missingRows: ['(3,bread,bakery,3.20)'],
          extraRows: ['(3,bread,bakery,3.52)'],
        },
      ],
    });
    expect(start.message).toContain('public.products');
    expect(hidden).toMatchObject({ dataset: 'hidden-1', passed: false, reason: 'tables' });
    expect(hidden.tables[0].missingRows.length).toBeLessThanOrEqual(2);
    // Only rows that differ are shown (two at most on a hidden dataset): the drinks, raised by both, stay hidden.
    expect(JSON.stringify(noWhere.body)).not.toMatch(/juice|water/);

    const other = await attempt(raiseId, `${RAISE};\nDELETE FROM orders WHERE id = 2`);
    expect(other.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'tables',
      otherChanges: ['public.orders'],
    });
    expect(other.body.checks[0].message).toContain('public.orders');

    // Left uncommitted, the same UPDATE would be rolled back when the session ends: not an answer.
    const open = await attempt(raiseId, `BEGIN;\n${RAISE}`);
    expect(open.body.checks[0]).toMatchObject({ passed: false, reason: 'error' });
    expect(open.body.checks[0].message).toContain('COMMIT');
    expect((await attempt(raiseId, `BEGIN;\n${RAISE};\nCOMMIT`)).body.passed).toBe(true);

    const error = await attempt(raiseId, 'UPDATE products\n  SET cost = 1');
    expect(error.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'error',
      error: { sqlstate: '42703', line: 2, column: 7 },
    });

    // The learner's own instance at the start state is untouched by the attempts' writes.
    const sessionId = crypto.randomUUID();
    const before = await run(stack, learner.token, {
      sessionId,
      tail: { sql: SHOP },
      head: "SELECT string_agg(price::text, ',' ORDER BY id) FROM products",
    });
    expect(rowsOf(before.events)).toEqual([['4.00,5.50,3.20']]);
    await attempt(raiseId, 'UPDATE products SET price = 0;\nDELETE FROM orders');
    const after = await run(stack, learner.token, {
      sessionId,
      head: "SELECT string_agg(price::text, ',' ORDER BY id) FROM products, (SELECT count(*) FROM orders) o",
    });
    expect(after.events.at(-1)).toMatchObject({ type: 'done', source: 'session' });
    expect(rowsOf(after.events)).toEqual([['4.00,5.50,3.20']]);
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);

  it('grades a DDL exercise by the catalog: another index name passes, a wrong column type fails with the lines', async () => {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'add-stock',
      title: 'Stock per product',
      task: 'Add an integer column `stock`, never NULL, 0 by default, and an index on `category`.',
      setup: { sql: SHOP },
      solution:
        'ALTER TABLE products ADD COLUMN stock int NOT NULL DEFAULT 0;\nCREATE INDEX products_category ON products (category);',
      compare: { schema: true, tables: ['products'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const published = await api(stack, 'POST', `/api/exercises/${created.body.id}/publish`, instructor.token);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    const right = await attempt(
      created.body.id,
      'CREATE INDEX ON products (category);\nALTER TABLE products ADD stock integer DEFAULT 0 NOT NULL;',
    );
    expect(right.body, JSON.stringify(right.body)).toMatchObject({ passed: true });
    const wrongType = await attempt(
      created.body.id,
      'ALTER TABLE products ADD COLUMN stock bigint NOT NULL DEFAULT 0;\nCREATE INDEX ON products (category);',
    );
    expect(wrongType.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'schema',
      schema: {
        missing: ['column public.products.stock integer NOT NULL DEFAULT 0'],
        extra: ['column public.products.stock bigint NOT NULL DEFAULT 0'],
      },
    });
    const noIndex = await attempt(created.body.id, 'ALTER TABLE products ADD COLUMN stock int NOT NULL DEFAULT 0');
    expect(noIndex.body.checks[0]).toMatchObject({ passed: false, reason: 'schema' });
    expect(noIndex.body.checks[0].schema.missing[0]).toMatch(
      /^index on public\.products: CREATE INDEX ON public\.products/,
    );
    expect(await liveThrowaways()).toEqual([]);
  }, 300_000);

  it('grades by a check query after the answer, before the other tables are compared by digest', async () => {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'bread-order',
      title: 'Order bread',
      task: 'Record order 3: five loaves of bread.',
      setup: { sql: SHOP },
      solution: 'INSERT INTO orders VALUES (3, 3, 5)',
      compare: {
        check: 'SELECT o.id, p.name, o.qty FROM orders o JOIN products p ON p.id = o.product_id ORDER BY o.id',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.kind).toBe('write');
    const published = await api(stack, 'POST', `/api/exercises/${created.body.id}/publish`, instructor.token);
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    expect(published.body.report.killed).toBeGreaterThan(0);
    const right = await attempt(created.body.id, 'INSERT INTO orders (id, qty, product_id) VALUES (3, 5, 3)');
    expect(right.body, JSON.stringify(right.body)).toMatchObject({ passed: true });
    const wrongQty = await attempt(created.body.id, 'INSERT INTO orders VALUES (3, 3, 4)');
    expect(wrongQty.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'rows',
      missingRows: [['3', 'bread', '5']],
      extraRows: [['3', 'bread', '4']],
    });
    expect(wrongQty.body.checks[0].message).toContain('check query');
    const alsoPrices = await attempt(
      created.body.id,
      'INSERT INTO orders VALUES (3, 3, 5);\nUPDATE products SET price = 0',
    );
    expect(alsoPrices.body.checks[0]).toMatchObject({
      passed: false,
      reason: 'tables',
      otherChanges: ['public.products'],
    });
  }, 300_000);

  it('changes a draft with PUT (validated as POST), and a published exercise only at its next publish', async () => {
    const draft = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'cheap-drinks',
      title: 'Cheap drinks',
      task: 'Delete drinks under 5.',
      setup: { sql: SHOP },
      solution: "DELETE FROM products WHERE category = 'drinks' AND price < 5",
      compare: { tables: ['products'] },
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const body = {
      slug: 'cheap-drinks',
      title: 'Cheap drinks, cheaper',
      task: 'Delete drinks under 5, and nothing else.',
      setup: { sql: SHOP },
      solution: "DELETE FROM products WHERE category = 'drinks' AND price < 5.00",
      datasets: [{ name: 'more', sql: MORE_PRODUCTS }],
      compare: { tables: ['products'] },
    };
    const changed = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, instructor.token, body);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ id: draft.body.id, title: 'Cheap drinks, cheaper', status: 'draft' });
    const [stored] = await controlPlane<{ title: string; datasets: number; updated: boolean }>(
      stack,
      'SELECT title, (SELECT count(*)::int FROM exercises.exercise_datasets WHERE exercise_id = e.id) AS datasets, updated_at IS NOT NULL AS updated FROM exercises.exercises e WHERE id = $1',
      [draft.body.id],
    );
    expect(stored).toEqual({ title: 'Cheap drinks, cheaper', datasets: 1, updated: true });

    const badRef = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, instructor.token, {
      ...body,
      solution: 'DELET FROM products',
    });
    expect([badRef.status, badRef.body.code]).toEqual([422, 'EXERCISES_REFERENCE_SYNTAX']);
    const queryWithTables = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, instructor.token, {
      ...body,
      kind: 'query',
    });
    expect([queryWithTables.status, queryWithTables.body.code]).toEqual([422, 'EXERCISES_COMPARE_KIND']);
    const taken = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, instructor.token, {
      ...body,
      slug: 'raise-drinks',
    });
    expect([taken.status, taken.body.code]).toEqual([409, 'EXERCISES_SLUG_TAKEN']);
    const stranger = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, otherInstructor.token, body);
    expect([stranger.status, stranger.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);
    const byLearner = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, learner.token, body);
    expect([byLearner.status, byLearner.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);
    const tooLong = await api(stack, 'PUT', `/api/exercises/${draft.body.id}`, instructor.token, {
      ...body,
      title: 'x'.repeat(201),
    });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'VALIDATION_FAILED']);

    // A published exercise changed: learners keep its publication (title, grading) until it is published again.
    const published = await api(stack, 'PUT', `/api/exercises/${raiseId}`, instructor.token, {
      slug: 'raise-drinks',
      title: 'Raise the drinks by 20 %',
      task: 'Raise the price of every product of the category `drinks` by 20 %.',
      setup: { sql: SHOP },
      solution: "UPDATE products SET price = price * 1.20 WHERE category = 'drinks'",
      datasets: [{ name: 'more-products', sql: MORE_PRODUCTS }],
      compare: { tables: ['products'] },
    });
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', title: 'Raise the drinks by 20 %' });
    const seen = await api(stack, 'GET', `/api/exercises/${raiseId}`, learner.token);
    expect(seen.body).toMatchObject({ title: 'Raise the drinks', kind: 'write' });
    const listed = await api(stack, 'GET', '/api/exercises', learner.token);
    expect(listed.body.find((e: { id: string }) => e.id === raiseId)?.title).toBe('Raise the drinks');
    const progress = await api(stack, 'GET', '/api/me/progress', learner.token);
    expect(progress.body.find((e: { exerciseId: string }) => e.exerciseId === raiseId)?.title).toBe('Raise the drinks');
    expect((await attempt(raiseId, RAISE, secondLearner.token)).body.passed).toBe(true);
    const republished = await api(stack, 'POST', `/api/exercises/${raiseId}/publish`, instructor.token);
    expect(republished.status, JSON.stringify(republished.body)).toBe(200);
    expect((await api(stack, 'GET', `/api/exercises/${raiseId}`, learner.token)).body.title).toBe(
      'Raise the drinks by 20 %',
    );
    expect((await attempt(raiseId, RAISE, secondLearner.token)).body.passed).toBe(false);

    const metrics = await (await fetch(`${stack.services.exercisesUrl}/metrics`)).text();
    expect(metrics).toMatch(/^taidon_exercise_updates_total\{status="draft"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^taidon_exercise_updates_total\{status="published"[^}]*\} 1$/m);
  }, 300_000);

  it("groups identical wrong results into one group in the instructors' view, with counts and an example", async () => {
    // A fresh exercise, so the groups are only this test's attempts.
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'bakery-sale',
      title: 'Bakery sale',
      task: 'Halve the price of the bakery products.',
      setup: { sql: SHOP },
      solution: "UPDATE products SET price = price / 2 WHERE category = 'bakery'",
      compare: { tables: ['products'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect((await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token)).status).toBe(200);
    // Two learners drop the WHERE, written differently: the same state, so the same group.
    expect((await attempt(id, 'UPDATE products SET price = price / 2')).body.passed).toBe(false);
    expect((await attempt(id, 'UPDATE products SET price = price * 0.5', secondLearner.token)).body.passed).toBe(false);
    expect((await attempt(id, "UPDATE products SET price = price / 3 WHERE category = 'bakery'")).body.passed).toBe(
      false,
    );
    expect((await attempt(id, "UPDATE products SET price = price / 2 WHERE category = 'bakery'")).body.passed).toBe(
      true,
    );

    const stats = await api(stack, 'GET', `/api/exercises/${id}/stats`, instructor.token);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body).toMatchObject({ id, attempts: 4, learners: 2, solved: 1, solveRate: 0.5 });
    expect(stats.body.wrongAnswers).toHaveLength(2);
    const [top, second] = stats.body.wrongAnswers;
    expect(top).toMatchObject({
      attempts: 2,
      learners: 2,
      example: {
        sql: 'UPDATE products SET price = price / 2',
        checks: [{ dataset: 'start', passed: false, reason: 'tables' }],
      },
    });
    expect(second).toMatchObject({ attempts: 1, learners: 1 });
    expect(top.digest).not.toBe(second.digest);

    const byLearner = await api(stack, 'GET', `/api/exercises/${id}/stats`, learner.token);
    expect([byLearner.status, byLearner.body.code]).toEqual([403, 'GATEWAY_FORBIDDEN']);
    const byOther = await api(stack, 'GET', `/api/exercises/${id}/stats`, otherInstructor.token);
    expect([byOther.status, byOther.body.code]).toEqual([404, 'EXERCISES_NOT_FOUND']);
    const [digests] = await controlPlane<{ n: number }>(
      stack,
      'SELECT count(DISTINCT verdict_digest)::int AS n FROM exercises.attempts WHERE exercise_id = $1 AND NOT passed',
      [id],
    );
    expect(digests).toEqual({ n: 2 });
  }, 300_000);

  it('groups query answers by the rows they returned, not by their text', async () => {
    const created = await api(stack, 'POST', '/api/exercises', instructor.token, {
      slug: 'dear-products',
      title: 'Dear products',
      task: 'Name the products dearer than 4, by name.',
      setup: { sql: SHOP },
      solution: 'SELECT name FROM products WHERE price > 4 ORDER BY name',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.kind).toBe('query');
    const id = created.body.id;
    expect((await api(stack, 'POST', `/api/exercises/${id}/publish`, instructor.token)).status).toBe(200);
    // Every product, written two ways: one group; a syntax slip on its own.
    expect((await attempt(id, 'SELECT name FROM products ORDER BY name')).body.passed).toBe(false);
    expect(
      (await attempt(id, 'SELECT p.name FROM products p WHERE true ORDER BY 1', secondLearner.token)).body.passed,
    ).toBe(false);
    expect((await attempt(id, 'SELECT name FROM products WHERE price >= 4 ORDER BY name')).body.passed).toBe(false);
    const stats = await api(stack, 'GET', `/api/exercises/${id}/stats`, instructor.token);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body).toMatchObject({ attempts: 3, learners: 2, solved: 0, solveRate: 0 });
    expect(stats.body.wrongAnswers.map((g: { attempts: number }) => g.attempts)).toEqual([2, 1]);
    expect(stats.body.wrongAnswers[0].example).toMatchObject({
      sql: 'SELECT name FROM products ORDER BY name',
      checks: [{ dataset: 'start', passed: false, reason: 'rows', extraCount: 2 }],
    });
  }, 300_000);
});
