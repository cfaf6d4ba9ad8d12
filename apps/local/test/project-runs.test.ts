// Projects drive runs (issue 17): a tail `{ project, ref? }` is the project's init/ then seed/ scripts, read by
// sql-runner from vcs-sync for the caller's account, planned and cached script by script like any `{ files }`
// tail. Through the whole platform as npm start wires it, the example template's library schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlane } from './accounts-helpers.js';
import { post } from './platform.js';
import { type Event, rowsOf, run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_STATEMENT_TIMEOUT_MS = '3000';
process.env.RUN_WARM_POOL_EMPTY = '1';

/** Steps of the example's chain: init/01-schema.sql has three statements, each seed script one. */
const EXAMPLE_STEPS = 5;
const HEAD = 'SELECT count(*) FROM books;\nSELECT name FROM authors ORDER BY id;';
const last = (events: Event[]) => events.at(-1) as Event;
const replayed = (events: Event[]) =>
  events.filter((e) => e.type === 'progress' && e.phase === 'replay').map((e) => e.step);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => stack?.close(), 60_000);

async function call(
  token: string,
  method: string,
  path: string,
  init: { json?: unknown; text?: string; ifMatch?: string } = {},
) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.text !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  if (init.ifMatch) headers['if-match'] = init.ifMatch;
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.text;
  const response = await fetch(`${stack.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
  return { status: response.status, etag: response.headers.get('etag'), text, json };
}

async function exampleProject(token: string): Promise<string> {
  const created = await call(token, 'POST', '/api/projects', { json: { name: 'library', template: 'example' } });
  expect(created.status, created.text).toBe(201);
  return created.json.id as string;
}

/** The account id a token acts for (its `sub`). */
function accountOf(token: string): string {
  const [, payload = ''] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).sub as string;
}

describe('runs on a project tail', () => {
  it('runs the project chain, caches it per script, and replays only from an edited seed script', async () => {
    const learner = await stack.signIn();
    const project = await exampleProject(learner);
    const tail = { project };
    const auth = { authorization: `Bearer ${learner}` };

    const plan = await post(`${stack.url}/api/plan`, tail, auth);
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body.steps.map((s: { path: string }) => s.path)).toEqual([
      'init/01-schema.sql',
      'init/01-schema.sql',
      'init/01-schema.sql',
      'seed/01-authors.sql',
      'seed/02-books.sql',
    ]);
    expect(plan.body.steps.map((s: { cached: boolean }) => s.cached)).toEqual([false, false, false, false, false]);

    const first = await run(stack, learner, { tail, head: HEAD });
    expect(first.status, JSON.stringify(first.problem)).toBe(200);
    expect(last(first.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: EXAMPLE_STEPS });
    expect(rowsOf(first.events, 0)).toEqual([['6']]);
    expect(rowsOf(first.events, 1)).toEqual([['Ursula K. Le Guin'], ['Stanisław Lem'], ['Octavia E. Butler']]);
    // A layer at every script boundary: after init/01-schema.sql, seed/01-authors.sql and seed/02-books.sql.
    const cached = await post(`${stack.url}/api/plan`, tail, auth);
    expect(cached.body.steps.map((s: { cached: boolean }) => s.cached)).toEqual([false, false, true, true, true]);

    // Another learner's own project from the same template is the same chain: served from its layer.
    const other = await stack.signIn();
    const second = await run(stack, other, { tail: { project: await exampleProject(other) }, head: HEAD });
    expect(last(second.events)).toMatchObject({ type: 'done', outcome: 'ok', source: 'clone', stepsReplayed: 0 });
    expect(rowsOf(second.events, 0)).toEqual([['6']]);

    // A new book in the last seed script: only that script is replayed, from the layer after seed/01-authors.sql.
    const url = `/api/projects/${project}/files/seed/02-books.sql`;
    const before = await call(learner, 'GET', url);
    const history = await call(learner, 'GET', `/api/projects/${project}/history`);
    const createdAt = history.json.commits[0].commit as string;
    const edited = before.text.replace('1993);', "1993),\n  (7, 2, 'Fiasco', 1986);");
    expect(edited).not.toBe(before.text);
    const saved = await call(learner, 'PUT', url, { text: edited, ifMatch: before.etag ?? '' });
    expect(saved.status, saved.text).toBe(200);
    const afterEdit = await run(stack, learner, { tail, head: HEAD });
    expect(last(afterEdit.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 1 });
    expect(replayed(afterEdit.events)).toHaveLength(1);
    expect(rowsOf(afterEdit.events, 0)).toEqual([['7']]);

    // The project as at its first commit: the old data, from the layer the first run left.
    const then = await run(stack, learner, { tail: { project, ref: createdAt }, head: HEAD });
    expect(last(then.events)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 0 });
    expect(rowsOf(then.events, 0)).toEqual([['6']]);
  });

  it("answers 404 for another account's project, and nothing runs", async () => {
    const owner = await stack.signIn();
    const project = await exampleProject(owner);
    const stranger = await stack.signIn();
    const refused = await run(stack, stranger, { tail: { project }, head: 'SELECT 1' });
    expect([refused.status, refused.problem?.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
    const planned = await post(`${stack.url}/api/plan`, { project }, { authorization: `Bearer ${stranger}` });
    expect([planned.status, planned.body.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
    const id = accountOf(stranger);
    const sessions = await controlPlane(stack, 'SELECT id FROM sql_runner.sessions WHERE owner_id = $1', [id]);
    const runs = await controlPlane(stack, 'SELECT id FROM sql_runner.runs WHERE owner_id = $1', [id]);
    expect([sessions, runs]).toEqual([[], []]);
  });

  it("shares a project tail as its scripts were, keyed as the project's chain", async () => {
    const learner = await stack.signIn();
    const project = await exampleProject(learner);
    const auth = { authorization: `Bearer ${learner}` };
    const shared = await post(`${stack.url}/api/shares`, { tail: { project }, head: HEAD }, auth);
    expect(shared.status, JSON.stringify(shared.body)).toBe(201);
    const opened = await call(learner, 'GET', `/api/shares/${shared.body.id}`);
    expect(
      opened.json.tail.files.filter((f: { run?: boolean }) => f.run !== false).map((f: { path: string }) => f.path),
    ).toEqual(['init/01-schema.sql', 'seed/01-authors.sql', 'seed/02-books.sql']);
    const plan = await post(`${stack.url}/api/plan`, { project }, auth);
    expect(opened.json.key).toBe(plan.body.finalKey);
  });

  it('answers 422 for a ref the project lacks, before anything runs', async () => {
    const learner = await stack.signIn();
    const project = await exampleProject(learner);
    const refused = await run(stack, learner, { tail: { project, ref: 'abcdef1234' }, head: 'SELECT 1' });
    expect([refused.status, refused.problem?.code]).toEqual([422, 'VCS_SYNC_COMMIT_NOT_FOUND']);
  });
});
