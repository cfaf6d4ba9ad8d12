// Projects through the whole platform as npm start wires it: the gateway forwards to vcs-sync (its own start
// function), which asks user-profile for quotas and reports to audit-log; the files land in a Git working tree
// under the data directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

async function call(
  token: string,
  method: string,
  path: string,
  init: { json?: unknown; text?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.text !== undefined) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    body = init.text;
  }
  const response = await fetch(`${stack.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, etag: response.headers.get('etag'), text, json };
}

describe('projects through the gateway', () => {
  it('creates a project from the example, saves a file with its version, reads it back, and refuses a stale save', async () => {
    const token = await stack.signIn();
    const templates = await call(token, 'GET', '/api/project-templates');
    expect(templates.json.templates).toContain('example');
    const created = await call(token, 'POST', '/api/projects', { json: { name: 'library', template: 'example' } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const tree = await call(token, 'GET', `/api/projects/${id}/files`);
    expect(tree.json.files.map((f: { path: string }) => f.path)).toContain('seed/02-books.sql');
    const url = `/api/projects/${id}/files/seed/02-books.sql`;
    const read = await call(token, 'GET', url);
    expect(read.status).toBe(200);
    expect(read.text).toContain('Solaris');
    const edited = `${read.text}-- één regel\n`;
    const saved = await call(token, 'PUT', url, { text: edited, headers: { 'if-match': read.etag as string } });
    expect(saved.status).toBe(200);
    expect(saved.etag).toBe(`"${saved.json.version}"`);
    const again = await call(token, 'GET', url);
    expect([again.text, again.etag]).toEqual([edited, saved.etag]);
    const stale = await call(token, 'PUT', url, { text: 'lost?', headers: { 'if-match': read.etag as string } });
    expect([stale.status, stale.json.code, stale.json.instance]).toEqual([412, 'VCS_SYNC_VERSION_MISMATCH', url]);
    expect((await call(token, 'GET', url)).text).toBe(edited);
    const history = await call(token, 'GET', `/api/projects/${id}/history?path=seed/02-books.sql`);
    expect(history.json.commits.map((c: { message: string }) => c.message)).toEqual([
      'Save seed/02-books.sql',
      'Create the project from the example template',
    ]);
    const traversal = await call(token, 'GET', `/api/projects/${id}/files/..%2F..%2Fsecrets.json`);
    expect([traversal.status, traversal.json.code], traversal.text).toEqual([422, 'VCS_SYNC_PATH_TRAVERSAL']);
  });

  it('answers 404 for another account’s project and leaves it untouched', async () => {
    const owner = await stack.signIn();
    const stranger = await stack.signIn();
    const created = await call(owner, 'POST', '/api/projects', { json: { name: 'mine', template: 'example' } });
    const url = `/api/projects/${created.json.id}/files/README.md`;
    const before = await call(owner, 'GET', url);
    const write = await call(stranger, 'PUT', url, { text: 'mine now', headers: { 'if-match': '*' } });
    expect([write.status, write.json.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
    const remove = await call(stranger, 'DELETE', `/api/projects/${created.json.id}`);
    expect(remove.status).toBe(404);
    expect((await call(stranger, 'GET', '/api/projects')).json).toEqual([]);
    const after = await call(owner, 'GET', url);
    expect([after.text, after.etag]).toEqual([before.text, before.etag]);
  });
});
