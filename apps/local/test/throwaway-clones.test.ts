// Throwaway clones through the whole platform (ADR 0031): a project's tests (issue 17) and EXPLAIN ANALYZE (issue
// 19) run on clones of a state, never on the learner's instance, and change no layer of the chain. The example
// template's library schema, as npm start wires the services.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlane } from './accounts-helpers.js';
import { post } from './platform.js';
import { type Event, rowsOf, run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_STATEMENT_TIMEOUT_MS = '3000';
process.env.RUN_WARM_POOL_EMPTY = '1';

const last = (events: Event[]) => events.at(-1) as Event;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => stack?.close(), 60_000);

async function call(token: string, method: string, path: string, init: { json?: unknown; text?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.text !== undefined) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    headers['if-none-match'] = '*';
  }
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.text;
  const response = await fetch(`${stack.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const json = type.includes('json') && !type.includes('ndjson') ? JSON.parse(text) : undefined;
  const events = type.includes('ndjson')
    ? text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event)
    : [];
  return { status: response.status, text, json, events, headers: response.headers };
}

async function exampleProject(token: string): Promise<string> {
  const created = await call(token, 'POST', '/api/projects', { json: { name: 'library', template: 'example' } });
  expect(created.status, created.text).toBe(201);
  return created.json.id as string;
}

/** The cached flag of every step of the project's chain, as /api/plan tells it. */
async function cachedSteps(token: string, project: string): Promise<{ key: string; cached: boolean }[]> {
  const plan = await post(`${stack.url}/api/plan`, { project }, { authorization: `Bearer ${token}` });
  expect(plan.status, JSON.stringify(plan.body)).toBe(200);
  return plan.body.steps.map((s: { key: string; cached: boolean }) => ({ key: s.key, cached: s.cached }));
}

describe('throwaway clones through the gateway', () => {
  it("runs a project's tests on clones: per file passed or failed, the learner's rows and the chain's layers untouched", async () => {
    const learner = await stack.signIn();
    const project = await exampleProject(learner);
    const sessionId = crypto.randomUUID();
    const mine = await run(stack, learner, { sessionId, tail: { project }, head: 'DELETE FROM books WHERE id = 1;' });
    expect(last(mine.events), JSON.stringify(mine.events)).toMatchObject({ type: 'done', outcome: 'ok' });
    const saved = [
      ['test/03-destroys.sql', 'DELETE FROM books;\nDROP TABLE authors CASCADE;\n'],
      ['test/04-fails.sql', "SELECT 1;\nDO $$ BEGIN\n  RAISE EXCEPTION 'no such luck';\nEND $$;\n"],
      ['bench/01-count.sql', 'SELECT count(*) FROM books;\nSELECT count(*) FROM authors;\n'],
    ];
    for (const [path, text] of saved) {
      const put = await call(learner, 'PUT', `/api/projects/${project}/files/${path}`, { text });
      expect(put.status, put.text).toBeLessThan(300);
    }
    const layersBefore = await cachedSteps(learner, project);

    const tested = await call(learner, 'POST', `/api/projects/${project}/tests`, { json: {} });
    expect(tested.status, tested.text).toBe(200);
    expect(tested.headers.get('content-type')).toContain('application/x-ndjson');
    const files = tested.events.filter((e) => e.type === 'file');
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(tested.events[0]?.files.map((f: { path: string }) => f.path)).toEqual([
      'test/01-every-author-has-books.sql',
      'test/02-books-after-birth.sql',
      'test/03-destroys.sql',
      'test/04-fails.sql',
      'bench/01-count.sql',
    ]);
    expect(tested.events.find((e) => e.type === 'prepared')).toMatchObject({ source: 'layer', stepsReplayed: 0 });
    expect(byPath['test/01-every-author-has-books.sql']).toMatchObject({ outcome: 'passed' });
    expect(byPath['test/02-books-after-birth.sql']).toMatchObject({ outcome: 'passed' });
    expect(byPath['test/03-destroys.sql']).toMatchObject({ outcome: 'passed', statements: 2 });
    expect(byPath['test/04-fails.sql']).toMatchObject({
      outcome: 'failed',
      failure: { sqlstate: 'P0001', message: 'no such luck', path: 'test/04-fails.sql', line: 2, column: 1 },
    });
    expect(byPath['bench/01-count.sql']).toMatchObject({ kind: 'bench', outcome: 'passed' });
    expect(byPath['bench/01-count.sql'].statementMs).toHaveLength(2);
    expect(last(tested.events)).toMatchObject({ type: 'done', outcome: 'failed', passed: 4, failed: 1 });

    // The learner's instance: their own change kept, nothing of the tests'.
    const after = await run(stack, learner, {
      sessionId,
      head: 'SELECT count(*) FROM books; SELECT count(*) FROM authors;',
    });
    expect(last(after.events)).toMatchObject({ outcome: 'ok', source: 'session' });
    expect([rowsOf(after.events, 0), rowsOf(after.events, 1)]).toEqual([[['5']], [['3']]]);
    // The chain's layers: the same ones, and a new session served from them has every row.
    expect(await cachedSteps(learner, project)).toEqual(layersBefore);
    const fresh = await run(stack, learner, { tail: { project }, head: 'SELECT count(*) FROM books;' });
    expect(last(fresh.events)).toMatchObject({ outcome: 'ok', stepsReplayed: 0 });
    expect(rowsOf(fresh.events)).toEqual([['6']]);
    // The clones' deletes, which the stream's end did not wait for, are done within seconds.
    const live = () =>
      controlPlane(stack, "SELECT id FROM env_manager.instances WHERE owner_role = 'throwaway' AND state <> 'Deleted'");
    for (let i = 0; i < 200 && (await live()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await live()).toEqual([]);
  });

  it("answers 404 for another account's project, and nothing runs", async () => {
    const project = await exampleProject(await stack.signIn());
    const refused = await call(await stack.signIn(), 'POST', `/api/projects/${project}/tests`, { json: {} });
    expect([refused.status, refused.json?.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
  });

  it("explains an UPDATE on a clone of the session's state: the plan, and the learner's rows unchanged", async () => {
    const learner = await stack.signIn();
    const project = await exampleProject(learner);
    const sessionId = crypto.randomUUID();
    const first = await run(stack, learner, { sessionId, tail: { project }, head: 'SELECT 1;' });
    expect(last(first.events)).toMatchObject({ outcome: 'ok' });
    const explained = await call(learner, 'POST', '/api/explain', {
      json: { session: sessionId, statement: 'UPDATE books SET title = upper(title) WHERE id <= 3' },
    });
    expect(explained.status, explained.text).toBe(200);
    expect(explained.json.plan.Plan).toMatchObject({ 'Node Type': 'ModifyTable', Operation: 'Update' });
    expect(typeof explained.json.plan['Execution Time']).toBe('number');
    expect(explained.json.text).toMatch(/^Update on books/);
    expect(['layer', 'session-snapshot']).toContain(explained.json.source);
    const rows = await run(stack, learner, { sessionId, head: 'SELECT title FROM books WHERE id <= 3 ORDER BY id;' });
    const titles = rowsOf(rows.events).map(([title]) => title ?? '');
    expect(titles).toHaveLength(3);
    expect(titles.every((title) => title !== title.toUpperCase())).toBe(true);
    const two = await call(learner, 'POST', '/api/explain', { json: { statement: 'SELECT 1; SELECT 2' } });
    expect([two.status, two.json.code]).toEqual([400, 'SQL_RUNNER_EXPLAIN_ONE_STATEMENT']);
  });
});
