import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, gitOutside, startGitHttpServer } from './git-http-server.js';
import { newProject, startFixture, type TestAccount, type VcsSyncFixture } from './helpers.js';

const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
let f: VcsSyncFixture;
let server: GitHttpServer;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vcs-remotes-'));
  server = await startGitHttpServer(join(work, 'served'), { token: TOKEN });
  f = await startFixture({
    VCS_SYNC_ALLOW_LOOPBACK_HTTP: 'true',
    VCS_SYNC_TOKEN_KEY: randomBytes(32).toString('base64'),
  });
}, 60_000);
afterAll(async () => {
  await f?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

/** A clone of a served bare repository, as another person works on it (plain git, by path). */
function otherClone(name: string): string {
  const dir = join(work, `other-${name}-${randomBytes(3).toString('hex')}`);
  gitOutside(work, 'clone', '-q', join(server.root, `${name}.git`), dir);
  return dir;
}

function bareHead(name: string): string {
  return gitOutside(join(server.root, `${name}.git`), 'rev-parse', 'main').trim();
}

async function projectWithRemote(account: TestAccount, name: string) {
  const project = await newProject(f, account, name, 'example');
  const url = server.bare(name);
  const set = await f.call(account, 'PUT', `/projects/${project.id}/remote`, { json: { url, token: TOKEN } });
  expect(set.status, set.text).toBe(200);
  return { project, url, base: `/projects/${project.id}` };
}

describe('remotes', () => {
  it('pushes to a remote with a token, and pulls what another clone pushed there', async () => {
    const learner = await f.account();
    const { project, url, base } = await projectWithRemote(learner, 'push-pull');
    const remote = await f.call(learner, 'PUT', `${base}/remote`, { json: { url, token: TOKEN } });
    expect(remote.body).toMatchObject({ url, branch: 'main', hasToken: true });
    expect(remote.text).not.toContain(TOKEN);
    const shown = await f.call(learner, 'GET', `${base}/remote`);
    expect(shown.body).toEqual(remote.body);

    const pushed = await f.call(learner, 'POST', `${base}/push`);
    expect([pushed.status, pushed.body.status], pushed.text).toEqual([200, 'pushed']);
    expect(bareHead('push-pull')).toBe(f.git(project.id, 'rev-parse', 'HEAD').trim());

    const other = otherClone('push-pull');
    await writeFile(join(other, 'seed/01-authors.sql'), "INSERT INTO authors (name) VALUES ('Le Guin');\n");
    gitOutside(other, 'commit', '-qam', 'Another author');
    gitOutside(other, 'push', '-q', 'origin', 'main');

    const pulled = await f.call(learner, 'POST', `${base}/pull`);
    expect([pulled.status, pulled.body.status], pulled.text).toEqual([200, 'fast-forward']);
    expect(pulled.body.commit).toBe(bareHead('push-pull'));
    const read = await f.call(learner, 'GET', `${base}/files/seed/01-authors.sql`);
    expect(read.text).toBe("INSERT INTO authors (name) VALUES ('Le Guin');\n");
    expect(await readFile(join(f.projectsDir, project.id, 'seed/01-authors.sql'), 'utf8')).toBe(read.text);
    const again = await f.call(learner, 'POST', `${base}/pull`);
    expect(again.body.status).toBe('up-to-date');

    // Both sides changed different files: a merge commit with both parents.
    const save = await f.call(learner, 'PUT', `${base}/files/README.md`, {
      text: 'ours\n',
      headers: { 'if-match': '*' },
    });
    expect(save.status).toBe(200);
    await writeFile(join(other, 'init/02-more.sql'), 'CREATE TABLE more (id int);\n');
    gitOutside(other, 'pull', '-q', 'origin', 'main');
    gitOutside(other, 'add', '.');
    gitOutside(other, 'commit', '-qm', 'More');
    gitOutside(other, 'push', '-q', 'origin', 'main');
    const merged = await f.call(learner, 'POST', `${base}/pull`);
    expect([merged.status, merged.body.status], merged.text).toEqual([200, 'merged']);
    expect(f.git(project.id, 'rev-list', '--parents', '-n', '1', 'HEAD').trim().split(' ')).toHaveLength(3);
    expect((await f.call(learner, 'GET', `${base}/files/init/02-more.sql`)).status).toBe(200);
    expect((await f.call(learner, 'GET', `${base}/files/README.md`)).text).toBe('ours\n');
    const pushedMerge = await f.call(learner, 'POST', `${base}/push`);
    expect(pushedMerge.body.status).toBe('pushed');
    expect(bareHead('push-pull')).toBe(merged.body.commit);

    expect((await f.auditEvents('project-remote-set')).find((e) => e.target === project.id)?.detail).toEqual({
      url,
      branch: 'main',
      authenticated: true,
    });
    const outcomes = async (action: string) =>
      (await f.auditEvents(action))
        .filter((e) => e.target === project.id)
        .map((e) => e.detail.outcome as string)
        .sort();
    // The sink delivers in batches: wait for all of them.
    await expect.poll(() => outcomes('project-pushed'), { timeout: 10_000 }).toEqual(['pushed', 'pushed']);
    await expect
      .poll(() => outcomes('project-pulled'), { timeout: 10_000 })
      .toEqual(['fast-forward', 'merged', 'up-to-date']);
    const metrics = await f.call(undefined, 'GET', '/metrics');
    expect(metrics.text).toMatch(
      /taidon_git_remote_operations_total\{[^}]*operation="push"[^}]*outcome="pushed"[^}]*\} 2/,
    );
    expect(metrics.text).toMatch(/taidon_git_remote_operations_total\{[^}]*operation="pull"[^}]*outcome="merged"/);
  });

  it('refuses a wrong token, and a missing one, with VCS_SYNC_REMOTE_AUTH_FAILED, changing nothing', async () => {
    const learner = await f.account();
    const { project, url, base } = await projectWithRemote(learner, 'wrong-token');
    const head = f.git(project.id, 'rev-parse', 'HEAD');
    const wrong = `tok-${randomBytes(16).toString('hex')}`;
    await f.call(learner, 'PUT', `${base}/remote`, { json: { url, token: wrong } });
    for (const action of ['push', 'pull']) {
      const refused = await f.call(learner, 'POST', `${base}/${action}`);
      expect([refused.status, refused.body.code], refused.text).toEqual([422, 'VCS_SYNC_REMOTE_AUTH_FAILED']);
      // The remote's own status is not told (no port scanner): only the code it maps to.
      expect(refused.body.remoteStatus).toBeUndefined();
      expect(refused.body.detail).toMatch(/refused the token/);
      expect(refused.text).not.toContain(wrong);
    }
    await f.call(learner, 'PUT', `${base}/remote`, { json: { url } });
    const anonymous = await f.call(learner, 'POST', `${base}/push`);
    expect([anonymous.status, anonymous.body.code]).toEqual([422, 'VCS_SYNC_REMOTE_AUTH_FAILED']);
    expect(anonymous.body.detail).toMatch(/asks for credentials/);
    expect(f.git(project.id, 'rev-parse', 'HEAD')).toBe(head);
    expect(gitOutside(join(server.root, 'wrong-token.git'), 'rev-list', '--all')).toBe('');
  });

  it('refuses a push that is not a fast-forward with VCS_SYNC_PUSH_REJECTED, changing nothing here or there', async () => {
    const learner = await f.account();
    const { project, base } = await projectWithRemote(learner, 'non-ff');
    expect((await f.call(learner, 'POST', `${base}/push`)).body.status).toBe('pushed');
    const other = otherClone('non-ff');
    await writeFile(join(other, 'theirs.sql'), 'SELECT 1;\n');
    gitOutside(other, 'add', '.');
    gitOutside(other, 'commit', '-qm', 'Theirs');
    gitOutside(other, 'push', '-q', 'origin', 'main');
    const remoteBefore = bareHead('non-ff');
    await f.call(learner, 'PUT', `${base}/files/ours.sql`, { text: 'SELECT 2;\n' });
    const head = f.git(project.id, 'rev-parse', 'HEAD');
    const refs = f.git(project.id, 'for-each-ref');
    const rejected = await f.call(learner, 'POST', `${base}/push`);
    expect([rejected.status, rejected.body.code, rejected.body.branch], rejected.text).toEqual([
      409,
      'VCS_SYNC_PUSH_REJECTED',
      'main',
    ]);
    expect(bareHead('non-ff')).toBe(remoteBefore);
    expect([f.git(project.id, 'rev-parse', 'HEAD'), f.git(project.id, 'for-each-ref')]).toEqual([head, refs]);
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
  });

  it('answers a conflicting pull with 409 and the three versions, leaves the tree untouched, then merges the resolution', async () => {
    const learner = await f.account();
    const { project, base } = await projectWithRemote(learner, 'conflict');
    await f.call(learner, 'POST', `${base}/push`);
    const baseText = (await f.call(learner, 'GET', `${base}/files/seed/01-authors.sql`)).text;
    const other = otherClone('conflict');
    await writeFile(join(other, 'seed/01-authors.sql'), 'theirs authors\n');
    await writeFile(join(other, 'README.md'), 'theirs readme\n');
    gitOutside(other, 'commit', '-qam', 'Theirs');
    gitOutside(other, 'push', '-q', 'origin', 'main');
    for (const [path, text] of [
      ['seed/01-authors.sql', 'ours authors\n'],
      ['README.md', 'ours readme\n'],
    ] as const) {
      const saved = await f.call(learner, 'PUT', `${base}/files/${path}`, { text, headers: { 'if-match': '*' } });
      expect(saved.status).toBe(200);
    }
    const dir = join(f.projectsDir, project.id);
    const head = f.git(project.id, 'rev-parse', 'HEAD').trim();
    const before = await readFile(join(dir, 'seed/01-authors.sql'), 'utf8');

    const conflict = await f.call(learner, 'POST', `${base}/pull`);
    expect([conflict.status, conflict.body.code], conflict.text).toEqual([409, 'VCS_SYNC_PULL_CONFLICT']);
    expect(conflict.body.ours).toBe(head);
    expect(conflict.body.theirs).toBe(bareHead('conflict'));
    expect(conflict.body.files).toEqual([
      { path: 'README.md', base: expect.any(String), ours: 'ours readme\n', theirs: 'theirs readme\n' },
      { path: 'seed/01-authors.sql', base: baseText, ours: 'ours authors\n', theirs: 'theirs authors\n' },
    ]);
    expect(f.git(project.id, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(await readFile(join(dir, 'seed/01-authors.sql'), 'utf8')).toBe(before);
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
    const pending = await f.call(learner, 'GET', `${base}/merge`);
    expect(pending.body.files).toEqual(conflict.body.files);

    const partial = await f.call(learner, 'POST', `${base}/merge`, {
      json: {
        resolutions: [
          { path: 'README.md', take: 'theirs' },
          { path: 'nope.sql', take: 'ours' },
        ],
      },
    });
    expect([partial.status, partial.body.code, partial.body.missing, partial.body.unexpected]).toEqual([
      422,
      'VCS_SYNC_MERGE_UNRESOLVED',
      ['seed/01-authors.sql'],
      ['nope.sql'],
    ]);
    expect(f.git(project.id, 'rev-parse', 'HEAD').trim()).toBe(head);

    const resolved = await f.call(learner, 'POST', `${base}/merge`, {
      json: {
        resolutions: [
          { path: 'README.md', take: 'theirs' },
          { path: 'seed/01-authors.sql', text: 'ours and theirs authors\n' },
        ],
      },
    });
    expect([resolved.status, resolved.body.status], resolved.text).toEqual([200, 'merged']);
    expect(f.git(project.id, 'rev-list', '--parents', '-n', '1', 'HEAD').trim().split(' ').slice(1)).toEqual([
      head,
      conflict.body.theirs,
    ]);
    expect(await readFile(join(dir, 'seed/01-authors.sql'), 'utf8')).toBe('ours and theirs authors\n');
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe('theirs readme\n');
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
    const none = await f.call(learner, 'GET', `${base}/merge`);
    expect([none.status, none.body.code]).toEqual([409, 'VCS_SYNC_NO_PENDING_MERGE']);
    expect((await f.call(learner, 'POST', `${base}/push`)).body.status).toBe('pushed');
    expect(bareHead('conflict')).toBe(resolved.body.commit);
  });

  it('aborts a pending merge, leaving the project as it was', async () => {
    const learner = await f.account();
    const { project, base } = await projectWithRemote(learner, 'abort');
    await f.call(learner, 'POST', `${base}/push`);
    const other = otherClone('abort');
    await writeFile(join(other, 'README.md'), 'theirs\n');
    gitOutside(other, 'commit', '-qam', 'Theirs');
    gitOutside(other, 'push', '-q', 'origin', 'main');
    await f.call(learner, 'PUT', `${base}/files/README.md`, { text: 'ours\n', headers: { 'if-match': '*' } });
    const head = f.git(project.id, 'rev-parse', 'HEAD');
    expect((await f.call(learner, 'POST', `${base}/pull`)).status).toBe(409);
    const aborted = await f.call(learner, 'DELETE', `${base}/merge`);
    expect([aborted.status, aborted.body.theirs]).toEqual([200, bareHead('abort')]);
    expect(f.git(project.id, 'rev-parse', 'HEAD')).toBe(head);
    expect((await f.call(learner, 'GET', `${base}/files/README.md`)).text).toBe('ours\n');
    expect((await f.call(learner, 'DELETE', `${base}/merge`)).body.code).toBe('VCS_SYNC_NO_PENDING_MERGE');
  });

  it('imports a project from a URL with its history, and keeps that URL as its remote', async () => {
    const learner = await f.account();
    const source = await projectWithRemote(learner, 'import-source');
    await f.call(learner, 'POST', `${source.base}/push`);
    const history = gitOutside(join(server.root, 'import-source.git'), 'log', '--format=%H', 'main');
    const imported = await f.call(learner, 'POST', '/projects', {
      json: { name: 'imported', import: { url: source.url, token: TOKEN } },
    });
    expect([imported.status, imported.body.template], imported.text).toEqual([201, 'import']);
    const id = imported.body.id as string;
    expect(f.git(id, 'log', '--format=%H', 'HEAD')).toBe(history);
    const tree = await f.call(learner, 'GET', `/projects/${id}/files`);
    expect(tree.body.files.map((file: { path: string }) => file.path)).toContain('seed/02-books.sql');
    expect(await readFile(join(f.projectsDir, id, 'init/01-schema.sql'), 'utf8')).toContain('CREATE TABLE');
    expect((await f.call(learner, 'POST', `/projects/${id}/pull`)).body.status).toBe('up-to-date');
    expect((await f.auditEvents('project-imported')).find((e) => e.target === id)?.detail).toEqual({
      url: source.url,
      authenticated: true,
    });
    const both = await f.call(learner, 'POST', '/projects', {
      json: { name: 'both', template: 'example', import: { url: source.url } },
    });
    expect([both.status, both.body.code]).toEqual([422, 'VCS_SYNC_IMPORT_WITH_TEMPLATE']);
    const empty = server.bare('empty-import');
    const nothing = await f.call(learner, 'POST', '/projects', {
      json: { name: 'nothing', import: { url: empty, token: TOKEN } },
    });
    expect([nothing.status, nothing.body.code]).toEqual([422, 'VCS_SYNC_REMOTE_BRANCH_NOT_FOUND']);
    const { rows } = await f.pool.query('SELECT name FROM projects WHERE owner_id = $1 ORDER BY name', [learner.id]);
    expect(rows.map((r) => r.name)).toEqual(['import-source', 'imported']);
  });

  it('keeps the token out of .git/config, the database, logs, error bodies and the process list during a push', async () => {
    const learner = await f.account();
    const { project, url, base } = await projectWithRemote(learner, 'secret');
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    server.delayMs = 400;
    let done = false;
    const seen: string[] = [];
    const pushing = f.call(learner, 'POST', `${base}/push`).finally(() => {
      done = true;
    });
    while (!done) {
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(url)) seen.push(cmdline.replaceAll('\0', ' '));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    server.delayMs = 0;
    expect((await pushing).body.status).toBe('pushed');
    // The scan saw git at work on this remote (so it looked while the token was in use)…
    expect(seen.some((line) => /\bgit\b/.test(line))).toBe(true);
    // …and no command line held the token, raw or as the Basic header.
    expect(seen.filter((line) => line.includes(TOKEN) || line.includes(basic))).toEqual([]);
    const config = await readFile(join(f.projectsDir, project.id, '.git', 'config'), 'utf8');
    expect([config.includes(TOKEN), config.includes(basic), config.includes(url)]).toEqual([false, false, false]);
    const { rows } = await f.pool.query('SELECT url, token_sealed FROM project_remotes WHERE project_id = $1', [
      project.id,
    ]);
    expect(rows[0].url).toBe(url);
    expect(Buffer.from(rows[0].token_sealed).includes(Buffer.from(TOKEN))).toBe(false);
    const bad = await f.call(learner, 'PUT', `${base}/remote`, { json: { url: `ext::sh -c ${TOKEN}`, token: TOKEN } });
    expect(bad.status).toBe(422);
    expect(bad.text).not.toContain(TOKEN);
    const logs = f.logs().join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect([logs.includes(TOKEN), logs.includes(basic)]).toEqual([false, false]);
    expect(existsSync(join(f.projectsDir, project.id, '.git', 'FETCH_HEAD'))).toBe(false);
  });
});
