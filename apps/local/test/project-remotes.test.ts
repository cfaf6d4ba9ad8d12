// Project remotes through the whole platform as npm start wires it: the gateway forwards to vcs-sync, which
// talks to a loopback smart-HTTP Git server (git http-backend behind a token check) and keeps the token sealed
// with the key the launcher generates.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, gitOutside, startGitHttpServer } from '../../../services/vcs-sync/test/git-http-server.js';
import { startTestStack, type TestStack } from './stack.js';

const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
let stack: TestStack;
let server: GitHttpServer;
let work: string;

beforeAll(async () => {
  // The launcher passes its environment on to every service: plain http to 127.0.0.1 for the loopback server.
  process.env.VCS_SYNC_ALLOW_LOOPBACK_HTTP = 'true';
  work = await mkdtemp(join(tmpdir(), 'taidon-remotes-'));
  server = await startGitHttpServer(join(work, 'served'), { token: TOKEN });
  stack = await startTestStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

async function call(token: string, method: string, path: string, json?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
}

describe('project remotes through the gateway', () => {
  it('sets a remote with a token, pushes, pulls a change made elsewhere and imports from the URL', async () => {
    const token = await stack.signIn();
    const created = await call(token, 'POST', '/api/projects', { name: 'library', template: 'example' });
    const id = created.json.id as string;
    const url = server.bare('library');
    const set = await call(token, 'PUT', `/api/projects/${id}/remote`, { url, token: TOKEN });
    expect([set.status, set.json.hasToken], set.text).toEqual([200, true]);
    expect(set.text).not.toContain(TOKEN);
    expect((await call(token, 'GET', `/api/projects/${id}/remote`)).json).toEqual(set.json);
    const pushed = await call(token, 'POST', `/api/projects/${id}/push`);
    expect([pushed.status, pushed.json.status], pushed.text).toEqual([200, 'pushed']);
    const bare = join(server.root, 'library.git');
    expect(gitOutside(bare, 'rev-parse', 'main').trim()).toBe(pushed.json.commit);

    const other = join(work, 'other');
    gitOutside(work, 'clone', '-q', bare, other);
    gitOutside(other, 'rm', '-q', 'seed/02-books.sql');
    gitOutside(other, 'commit', '-qm', 'No books');
    gitOutside(other, 'push', '-q', 'origin', 'main');
    const pulled = await call(token, 'POST', `/api/projects/${id}/pull`);
    expect([pulled.status, pulled.json.status], pulled.text).toEqual([200, 'fast-forward']);
    const gone = await call(token, 'GET', `/api/projects/${id}/files/seed/02-books.sql`);
    expect([gone.status, gone.json.code]).toEqual([404, 'VCS_SYNC_FILE_NOT_FOUND']);

    const imported = await call(token, 'POST', '/api/projects', { name: 'copy', import: { url, token: TOKEN } });
    expect([imported.status, imported.json.template], imported.text).toEqual([201, 'import']);
    const tree = await call(token, 'GET', `/api/projects/${imported.json.id}/files`);
    expect(tree.json.commit).toBe(pulled.json.commit);

    const wrong = await call(token, 'PUT', `/api/projects/${id}/remote`, { url, token: 'wrong' });
    expect(wrong.status).toBe(200);
    const refused = await call(token, 'POST', `/api/projects/${id}/push`);
    expect([refused.status, refused.json.code]).toEqual([422, 'VCS_SYNC_REMOTE_AUTH_FAILED']);
    const ext = await call(token, 'PUT', `/api/projects/${id}/remote`, { url: 'ext::sh -c id' });
    expect([ext.status, ext.json.code]).toEqual([422, 'VCS_SYNC_REMOTE_PROTOCOL']);
  });

  it('answers another account’s project 404 on the remote routes and leaves it untouched', async () => {
    const owner = await stack.signIn();
    const stranger = await stack.signIn();
    const created = await call(owner, 'POST', '/api/projects', { name: 'mine', template: 'example' });
    const id = created.json.id as string;
    const url = server.bare('mine');
    await call(owner, 'PUT', `/api/projects/${id}/remote`, { url, token: TOKEN });
    const tries = [
      await call(stranger, 'GET', `/api/projects/${id}/remote`),
      await call(stranger, 'PUT', `/api/projects/${id}/remote`, { url: 'https://example.com/x.git' }),
      await call(stranger, 'POST', `/api/projects/${id}/pull`),
      await call(stranger, 'POST', `/api/projects/${id}/push`),
      await call(stranger, 'GET', `/api/projects/${id}/merge`),
      await call(stranger, 'DELETE', `/api/projects/${id}/merge`),
    ];
    expect(tries.map((t) => [t.status, t.json.code])).toEqual(tries.map(() => [404, 'VCS_SYNC_PROJECT_NOT_FOUND']));
    // Untouched: the remote is still the owner's (the push goes there), and nothing reached it before.
    expect(gitOutside(join(server.root, 'mine.git'), 'rev-list', '--all')).toBe('');
    const pushed = await call(owner, 'POST', `/api/projects/${id}/push`);
    expect([pushed.status, pushed.json.status], pushed.text).toEqual([200, 'pushed']);
  });
});
