import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, gitOutside, startGitHttpServer } from './git-http-server.js';
import { newProject, startFixture, type TestAccount, type VcsSyncFixture } from './helpers.js';

const FILE_MAX_BYTES = 4096;
let f: VcsSyncFixture;
let server: GitHttpServer;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vcs-hostile-'));
  server = await startGitHttpServer(join(work, 'served'), { token: randomBytes(8).toString('hex'), publicRead: true });
  f = await startFixture({
    VCS_SYNC_ALLOW_LOOPBACK_HTTP: 'true',
    VCS_SYNC_FILE_MAX_BYTES: String(FILE_MAX_BYTES),
  });
}, 60_000);
afterAll(async () => {
  await f?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

/**
 * A served repository whose main holds what `build` makes in a plain working
 * tree (with git itself, as an attacker would), on top of a first commit
 * holding `README.md`. Answers its URL and the hostile commit.
 */
async function hostile(
  name: string,
  build: (dir: string) => Promise<void>,
  stageAll = true,
): Promise<{ url: string; commit: string }> {
  const url = server.bare(name);
  const dir = join(work, `src-${name}`);
  gitOutside(work, 'init', '-q', '-b', 'main', dir);
  await writeFile(join(dir, 'README.md'), 'first\n');
  gitOutside(dir, 'add', '.');
  gitOutside(dir, 'commit', '-qm', 'First');
  await build(dir);
  if (stageAll) gitOutside(dir, 'add', '-A');
  gitOutside(dir, 'commit', '-qm', 'Hostile');
  gitOutside(dir, 'push', '-q', join(server.root, `${name}.git`), 'main');
  return { url, commit: gitOutside(dir, 'rev-parse', 'HEAD').trim() };
}

/** A project of `account` following `url`, at the repository's first commit (pulled before the hostile one lands). */
async function follower(account: TestAccount, url: string) {
  const project = await newProject(f, account, `follow-${randomBytes(3).toString('hex')}`);
  const set = await f.call(account, 'PUT', `/projects/${project.id}/remote`, { json: { url } });
  expect(set.status, set.text).toBe(200);
  return project;
}

/** Pulls `url` into a fresh project and imports it, expecting both refused with `code`; nothing of it stays. */
async function expectRefused(url: string, commit: string, code: string, status = 422) {
  const learner = await f.account();
  const project = await follower(learner, url);
  const head = f.git(project.id, 'rev-parse', 'HEAD');
  const pulled = await f.call(learner, 'POST', `/projects/${project.id}/pull`);
  expect([pulled.status, pulled.body.code], pulled.text).toEqual([status, code]);
  expect(f.git(project.id, 'rev-parse', 'HEAD')).toBe(head);
  expect(f.git(project.id, 'status', '--porcelain', '--ignored')).toBe('');
  expect(f.git(project.id, 'for-each-ref', 'refs/taidon')).toBe('');
  // The refused objects were pruned: the hostile commit is not in the repository.
  expect(() => f.git(project.id, 'cat-file', '-e', `${commit}^{commit}`)).toThrow();
  const before = await readdir(f.projectsDir);
  const imported = await f.call(learner, 'POST', '/projects', { json: { name: 'imported', import: { url } } });
  expect([imported.status, imported.body.code], imported.text).toEqual([status, code]);
  expect(await readdir(f.projectsDir)).toEqual(before);
  const { rows } = await f.pool.query('SELECT count(*)::int AS n FROM projects WHERE owner_id = $1', [learner.id]);
  expect(rows[0].n).toBe(1);
  return { learner, project, pulled };
}

describe('hostile remotes', () => {
  it('refuses a pulled symbolic link to /etc/passwd with VCS_SYNC_REMOTE_SYMLINK, never following it', async () => {
    const { url, commit } = await hostile('symlink', async (dir) => {
      await symlink('/etc/passwd', join(dir, 'passwd.sql'));
    });
    const { project, pulled } = await expectRefused(url, commit, 'VCS_SYNC_REMOTE_SYMLINK');
    expect(pulled.body.path).toBe('passwd.sql');
    expect(pulled.text).not.toContain('root:');
    expect(existsSync(join(f.projectsDir, project.id, 'passwd.sql'))).toBe(false);
  });

  it('refuses a tree with .git/config in it with VCS_SYNC_REMOTE_GIT_PATH, the project config untouched', async () => {
    const name = 'git-path';
    const url = server.bare(name);
    const bare = join(server.root, `${name}.git`);
    const { execFileSync } = await import('node:child_process');
    const evil = execFileSync('git', ['--git-dir', bare, 'hash-object', '-w', '--stdin'], {
      input: 'SELECT 1;\n',
      encoding: 'utf8',
    }).trim();
    const config = '[core]\n\thooksPath = /tmp\n\tfsmonitor = touch /tmp/vcs-fsmonitor-ran\n';
    const blob = execFileSync('git', ['--git-dir', bare, 'hash-object', '-w', '--stdin'], {
      input: config,
      encoding: 'utf8',
    }).trim();
    const inner = execFileSync('git', ['--git-dir', bare, 'mktree'], {
      input: `100644 blob ${blob}\tconfig\n`,
      encoding: 'utf8',
    }).trim();
    const root = execFileSync('git', ['--git-dir', bare, 'mktree'], {
      input: `040000 tree ${inner}\t.git\n100644 blob ${evil}\tok.sql\n`,
      encoding: 'utf8',
    }).trim();
    const commit = gitOutside(bare, 'commit-tree', root, '-m', 'Hostile').trim();
    gitOutside(bare, 'update-ref', 'refs/heads/main', commit);
    const { project, pulled } = await expectRefused(url, commit, 'VCS_SYNC_REMOTE_GIT_PATH');
    expect(pulled.body.path).toBe('.git/config');
    expect(await readFile(join(f.projectsDir, project.id, '.git', 'config'), 'utf8')).not.toContain('hooksPath');
    expect(existsSync('/tmp/vcs-fsmonitor-ran')).toBe(false);
  });

  it('refuses a submodule with VCS_SYNC_REMOTE_SUBMODULE, fetching nothing of it', async () => {
    const { url, commit } = await hostile(
      'submodule',
      async (dir) => {
        await writeFile(
          join(dir, '.gitmodules'),
          `[submodule "lib"]\n\tpath = lib\n\turl = https://127.0.0.1:1/lib.git\n`,
        );
        const target = gitOutside(dir, 'rev-parse', 'HEAD').trim();
        gitOutside(dir, 'update-index', '--add', '--cacheinfo', `160000,${target},lib`);
        gitOutside(dir, 'add', '.gitmodules');
      },
      false,
    );
    const { project, pulled } = await expectRefused(url, commit, 'VCS_SYNC_REMOTE_SUBMODULE');
    expect(pulled.body.path).toBe('lib');
    expect(existsSync(join(f.projectsDir, project.id, 'lib'))).toBe(false);
    expect(existsSync(join(f.projectsDir, project.id, '.git', 'modules'))).toBe(false);
  });

  it('refuses a file past VCS_SYNC_FILE_MAX_BYTES with VCS_SYNC_FILE_TOO_LARGE', async () => {
    const { url, commit } = await hostile('too-large', async (dir) => {
      await writeFile(join(dir, 'big.sql'), `-- ${'x'.repeat(FILE_MAX_BYTES)}\n`);
    });
    const { pulled } = await expectRefused(url, commit, 'VCS_SYNC_FILE_TOO_LARGE', 413);
    expect([pulled.body.path, pulled.body.limit]).toEqual(['big.sql', FILE_MAX_BYTES]);
  });

  it("refuses a pull past the account's storage quota with VCS_SYNC_STORAGE_QUOTA_EXCEEDED, keeping nothing", async () => {
    const learner = await f.account();
    const { url, commit } = await hostile('quota', async (dir) => {
      for (let i = 0; i < 4; i++) await writeFile(join(dir, `data-${i}.sql`), randomBytes(1500).toString('hex'));
    });
    const project = await follower(learner, url);
    const { rows } = await f.pool.query('SELECT size_bytes FROM projects WHERE id = $1', [project.id]);
    const patched = await f.profileCall('PATCH', `/accounts/${learner.id}`, {
      overrides: { storageBytes: Number(rows[0].size_bytes) + 2000 },
    });
    expect(patched.status, patched.text).toBe(200);
    const pulled = await f.call(learner, 'POST', `/projects/${project.id}/pull`);
    expect([pulled.status, pulled.body.code], pulled.text).toEqual([413, 'VCS_SYNC_STORAGE_QUOTA_EXCEEDED']);
    expect(() => f.git(project.id, 'cat-file', '-e', `${commit}^{commit}`)).toThrow();
    const after = await f.pool.query('SELECT size_bytes FROM projects WHERE id = $1', [project.id]);
    expect(Number(after.rows[0].size_bytes)).toBeLessThanOrEqual(Number(rows[0].size_bytes) + 2000);
  });

  it('runs no hook while pulling, merging or pushing, whatever the repository config says', async () => {
    const learner = await f.account();
    const { url } = await hostile('hooks', async (dir) => {
      await writeFile(join(dir, 'theirs.sql'), 'SELECT 1;\n');
    });
    const project = await follower(learner, url);
    const dir = join(f.projectsDir, project.id);
    const marker = join(work, `hook-ran-${project.id}`);
    const hooks = join(work, `hooks-${project.id}`);
    for (const at of [join(dir, '.git', 'hooks'), hooks]) {
      await mkdir(at, { recursive: true });
      for (const hook of ['post-checkout', 'post-merge', 'reference-transaction', 'pre-commit', 'post-commit']) {
        await writeFile(join(at, hook), `#!/bin/sh\necho ${hook} >> ${marker}\n`);
        await chmod(join(at, hook), 0o755);
      }
    }
    f.git(project.id, 'config', 'core.hooksPath', hooks);
    await f.call(learner, 'PUT', `/projects/${project.id}/files/ours.sql`, { text: 'SELECT 2;\n' });
    const pulled = await f.call(learner, 'POST', `/projects/${project.id}/pull`);
    expect([pulled.status, pulled.body.status], pulled.text).toEqual([200, 'merged']);
    const pushed = await f.call(learner, 'POST', `/projects/${project.id}/push`);
    // The public server takes no anonymous push; the refusal is the remote's, and still no hook ran.
    expect(pushed.body.code).toBe('VCS_SYNC_REMOTE_AUTH_FAILED');
    expect(existsSync(marker)).toBe(false);
    // The control: the same hooks run for a plain git commit in that repository.
    f.git(project.id, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'by hand');
    expect(existsSync(marker)).toBe(true);
  });

  it('refuses ext::, ssh, git://, file:// and non-loopback http remotes, and credentials in a URL, each with its code', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'protocols');
    const marker = join(work, 'ext-ran');
    const cases: [string, string][] = [
      [`ext::sh -c touch% ${marker}`, 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['git@example.com:team/repo.git', 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['ssh://git@example.com/team/repo.git', 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['git://example.com/team/repo.git', 'VCS_SYNC_REMOTE_PROTOCOL'],
      [`file://${join(server.root, 'hooks.git')}`, 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['http://example.com/team/repo.git', 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['http://localhost/team/repo.git', 'VCS_SYNC_REMOTE_PROTOCOL'],
      ['https://user:secret@example.com/team/repo.git', 'VCS_SYNC_REMOTE_URL_CREDENTIALS'],
      ['https://example.com/repo.git?x=1', 'VCS_SYNC_REMOTE_URL_INVALID'],
      ['not a url', 'VCS_SYNC_REMOTE_URL_INVALID'],
    ];
    for (const [url, code] of cases) {
      const set = await f.call(learner, 'PUT', `/projects/${project.id}/remote`, { json: { url } });
      expect([url, set.status, set.body.code]).toEqual([url, 422, code]);
      const imported = await f.call(learner, 'POST', '/projects', { json: { name: 'x', import: { url } } });
      expect([url, imported.status, imported.body.code]).toEqual([url, 422, code]);
    }
    expect(existsSync(marker)).toBe(false);
    const { rows } = await f.pool.query('SELECT count(*)::int AS n FROM project_remotes WHERE project_id = $1', [
      project.id,
    ]);
    expect(rows[0].n).toBe(0);
    const none = await f.call(learner, 'GET', `/projects/${project.id}/remote`);
    expect([none.status, none.text]).toEqual([200, 'null']);
    const withToken = await f.call(learner, 'PUT', `/projects/${project.id}/remote`, {
      json: { url: 'https://example.com/repo.git', token: 'abc' },
    });
    // This installation has no VCS_SYNC_TOKEN_KEY: a token is refused rather than kept in clear.
    expect([withToken.status, withToken.body.code]).toEqual([503, 'VCS_SYNC_TOKENS_DISABLED']);
    const pull = await f.call(learner, 'POST', `/projects/${project.id}/pull`);
    expect([pull.status, pull.body.code]).toEqual([409, 'VCS_SYNC_REMOTE_NOT_SET']);
  });

  it('refuses remotes on loopback, private, link-local and reserved addresses with VCS_SYNC_REMOTE_ADDRESS_REFUSED', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'addresses');
    const urls = [
      'https://127.0.0.1:1/x.git',
      'https://localhost/x.git',
      'https://[::1]/x.git',
      'https://10.0.0.5/x.git',
      'https://172.16.3.4:8443/x.git',
      'https://192.168.1.1/x.git',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.64.0.1/x.git',
      'https://[fd00::1]/x.git',
      'https://[fe80::1]/x.git',
      'https://[::ffff:127.0.0.1]/x.git',
      'https://0.0.0.0/x.git',
    ];
    for (const url of urls) {
      const set = await f.call(learner, 'PUT', `/projects/${project.id}/remote`, { json: { url } });
      expect([url, set.status, set.body.code]).toEqual([url, 422, 'VCS_SYNC_REMOTE_ADDRESS_REFUSED']);
      const imported = await f.call(learner, 'POST', '/projects', { json: { name: 'x', import: { url } } });
      expect([url, imported.status, imported.body.code]).toEqual([url, 422, 'VCS_SYNC_REMOTE_ADDRESS_REFUSED']);
    }
    const { rows } = await f.pool.query('SELECT count(*)::int AS n FROM project_remotes WHERE project_id = $1', [
      project.id,
    ]);
    expect(rows[0].n).toBe(0);
    const projects = await f.call(learner, 'GET', '/projects');
    expect(projects.body.map((p: { name: string }) => p.name)).toEqual(['addresses']);
  });

  it('answers another account’s project 404 on every remote route and leaves it untouched', async () => {
    const owner = await f.account();
    const stranger = await f.account();
    const { url } = await hostile('owned', async (dir) => {
      await writeFile(join(dir, 'a.sql'), 'SELECT 1;\n');
    });
    const project = await follower(owner, url);
    const head = f.git(project.id, 'rev-parse', 'HEAD');
    const base = `/projects/${project.id}`;
    const tries = [
      await f.call(stranger, 'GET', `${base}/remote`),
      await f.call(stranger, 'PUT', `${base}/remote`, { json: { url: 'https://example.com/x.git' } }),
      await f.call(stranger, 'POST', `${base}/pull`),
      await f.call(stranger, 'POST', `${base}/push`),
      await f.call(stranger, 'GET', `${base}/merge`),
      await f.call(stranger, 'POST', `${base}/merge`, { json: { resolutions: [{ path: 'a.sql', take: 'ours' }] } }),
      await f.call(stranger, 'DELETE', `${base}/merge`),
    ];
    expect(tries.map((t) => [t.status, t.body.code])).toEqual(tries.map(() => [404, 'VCS_SYNC_PROJECT_NOT_FOUND']));
    expect(f.git(project.id, 'rev-parse', 'HEAD')).toBe(head);
    const { rows } = await f.pool.query('SELECT url FROM project_remotes WHERE project_id = $1', [project.id]);
    expect(rows.map((r) => r.url)).toEqual([url]);
  });
});

describe('public remotes', () => {
  it('imports a public repository without a token, and pulls from it', async () => {
    const learner = await f.account();
    const { url, commit } = await hostile('public', async (dir) => {
      await mkdir(join(dir, 'seed'));
      await writeFile(join(dir, 'seed/01.sql'), 'SELECT 1;\n');
    });
    const imported = await f.call(learner, 'POST', '/projects', { json: { name: 'public', import: { url } } });
    expect([imported.status, imported.body.template], imported.text).toEqual([201, 'import']);
    expect(f.git(imported.body.id, 'rev-parse', 'HEAD').trim()).toBe(commit);
    expect((await f.call(learner, 'GET', `/projects/${imported.body.id}/files/seed/01.sql`)).text).toBe('SELECT 1;\n');
    const pulled = await f.call(learner, 'POST', `/projects/${imported.body.id}/pull`);
    expect(pulled.body.status).toBe('up-to-date');
  });
});
