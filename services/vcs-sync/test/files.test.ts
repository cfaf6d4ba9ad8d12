import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProject, startFixture, type VcsSyncFixture } from './helpers.js';

let f: VcsSyncFixture;

beforeAll(async () => {
  f = await startFixture({ VCS_SYNC_FILE_MAX_BYTES: '4096', VCS_SYNC_PROJECT_MAX_FILES: '12' });
});
afterAll(async () => {
  await f?.close();
});

const etag = (answer: { headers: Record<string, unknown> }) => String(answer.headers.etag).replaceAll('"', '');

describe('files', () => {
  it('saves a new file as a commit by the account, and reads it back with its version as ETag', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const url = `/projects/${project.id}/files/seed/01-data.sql`;
    const saved = await f.call(learner, 'PUT', url, { text: 'SELECT 1;\n', headers: { 'if-none-match': '*' } });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ path: 'seed/01-data.sql', created: true });
    expect(etag(saved)).toBe(saved.body.version);
    expect(f.git(project.id, 'rev-parse', 'HEAD:seed/01-data.sql').trim()).toBe(saved.body.version);
    expect(f.git(project.id, 'log', '-1', '--format=%H %ae %s').trim()).toBe(
      `${saved.body.commit} ${learner.id}@accounts.taidon.invalid Save seed/01-data.sql`,
    );
    const read = await f.call(learner, 'GET', url);
    expect([read.status, read.text, etag(read)]).toEqual([200, 'SELECT 1;\n', saved.body.version]);
    const tree = await f.call(learner, 'GET', `/projects/${project.id}/files`);
    expect(tree.body).toEqual({
      commit: saved.body.commit,
      files: [{ path: 'seed/01-data.sql', sizeBytes: 10, version: saved.body.version }],
    });
  });

  it('answers 412 to a write based on a stale version and loses nothing: the file, the history and the disk stay', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const url = `/projects/${project.id}/files/a.sql`;
    const first = await f.call(learner, 'PUT', url, { text: 'v1', headers: { 'if-none-match': '*' } });
    const second = await f.call(learner, 'PUT', url, {
      text: 'v2',
      headers: { 'if-match': `"${first.body.version}"` },
    });
    expect(second.status).toBe(200);
    const commits = f.git(project.id, 'rev-list', '--count', 'HEAD');
    // Another tab still holds v1 and saves its own text on top of it.
    const stale = await f.call(learner, 'PUT', url, {
      text: 'v1 edited',
      headers: { 'if-match': `"${first.body.version}"` },
    });
    expect([stale.status, stale.body.code, stale.body.currentVersion]).toEqual([
      412,
      'VCS_SYNC_VERSION_MISMATCH',
      second.body.version,
    ]);
    expect(await readFile(join(f.projectsDir, project.id, 'a.sql'), 'utf8')).toBe('v2');
    expect(f.git(project.id, 'rev-list', '--count', 'HEAD')).toBe(commits);
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
    expect(f.git(project.id, 'show', `HEAD~1:a.sql`)).toBe('v1');
    const created = await f.call(learner, 'PUT', url, { text: 'again', headers: { 'if-none-match': '*' } });
    expect([created.status, created.body.code]).toEqual([412, 'VCS_SYNC_VERSION_MISMATCH']);
    const blind = await f.call(learner, 'PUT', url, { text: 'blind' });
    expect([blind.status, blind.body.code, blind.body.currentVersion]).toEqual([
      428,
      'VCS_SYNC_VERSION_REQUIRED',
      second.body.version,
    ]);
    expect(await readFile(join(f.projectsDir, project.id, 'a.sql'), 'utf8')).toBe('v2');
  });

  it('saving the text a file already has makes no commit', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const url = `/projects/${project.id}/files/same.sql`;
    const first = await f.call(learner, 'PUT', url, { text: 'x', headers: { 'if-none-match': '*' } });
    const again = await f.call(learner, 'PUT', url, { text: 'x', headers: { 'if-match': first.body.version } });
    expect([again.status, again.body.commit, again.body.version]).toEqual([200, first.body.commit, first.body.version]);
  });

  it('renames and deletes files as commits, with their effects on disk', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'p', 'example');
    const dir = join(f.projectsDir, project.id);
    const renamed = await f.call(learner, 'POST', `/projects/${project.id}/rename`, {
      json: { from: 'seed/02-books.sql', to: 'seed/03-books.sql' },
    });
    expect(renamed.status).toBe(200);
    expect(existsSync(join(dir, 'seed/02-books.sql'))).toBe(false);
    expect(await readFile(join(dir, 'seed/03-books.sql'), 'utf8')).toContain('Solaris');
    expect(f.git(project.id, 'log', '-1', '--format=%s').trim()).toBe('Rename seed/02-books.sql to seed/03-books.sql');
    const taken = await f.call(learner, 'POST', `/projects/${project.id}/rename`, {
      json: { from: 'seed/03-books.sql', to: 'README.md' },
    });
    expect([taken.status, taken.body.code]).toEqual([409, 'VCS_SYNC_PATH_CONFLICT']);
    const stale = await f.call(learner, 'DELETE', `/projects/${project.id}/files/README.md`, {
      headers: { 'if-match': '0000000000000000000000000000000000000000' },
    });
    expect([stale.status, stale.body.code]).toEqual([412, 'VCS_SYNC_VERSION_MISMATCH']);
    const deleted = await f.call(learner, 'DELETE', `/projects/${project.id}/files/README.md`);
    expect([deleted.status, deleted.body.version]).toEqual([200, null]);
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
    expect(f.git(project.id, 'ls-files', 'README.md')).toBe('');
    const gone = await f.call(learner, 'GET', `/projects/${project.id}/files/README.md`);
    expect([gone.status, gone.body.code]).toEqual([404, 'VCS_SYNC_FILE_NOT_FOUND']);
  });

  it('refuses a file past the size cap and a project past its file count, writing nothing', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'p', 'example');
    const big = await f.call(learner, 'PUT', `/projects/${project.id}/files/big.sql`, { text: 'x'.repeat(5000) });
    expect([big.status, big.body.code, big.body.limit]).toEqual([413, 'VCS_SYNC_FILE_TOO_LARGE', 4096]);
    expect(existsSync(join(f.projectsDir, project.id, 'big.sql'))).toBe(false);
    // The example has 6 files; the cap is 12.
    for (let i = 0; i < 6; i += 1) {
      const ok = await f.call(learner, 'PUT', `/projects/${project.id}/files/extra/${i}.sql`, { text: `-- ${i}` });
      expect(ok.status).toBe(201);
    }
    const over = await f.call(learner, 'PUT', `/projects/${project.id}/files/extra/6.sql`, { text: '-- 6' });
    expect([over.status, over.body.code]).toEqual([413, 'VCS_SYNC_TOO_MANY_FILES']);
    expect(existsSync(join(f.projectsDir, project.id, 'extra/6.sql'))).toBe(false);
  });

  it("refuses a write past the account's storage quota (user-profile's storageBytes), writing nothing", async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'p');
    const { rows } = await f.pool.query('SELECT size_bytes FROM projects WHERE id = $1', [project.id]);
    const used = Number(rows[0].size_bytes);
    const patched = await f.profileCall('PATCH', `/accounts/${learner.id}`, {
      overrides: { storageBytes: used + 2000 },
    });
    expect(patched.status).toBe(200);
    const small = await f.call(learner, 'PUT', `/projects/${project.id}/files/small.sql`, { text: 'x'.repeat(100) });
    expect(small.status).toBe(201);
    const commits = f.git(project.id, 'rev-list', '--count', 'HEAD');
    const refused = await f.call(learner, 'PUT', `/projects/${project.id}/files/large.sql`, { text: 'y'.repeat(3000) });
    expect([refused.status, refused.body.code, refused.body.limit]).toEqual([
      413,
      'VCS_SYNC_STORAGE_QUOTA_EXCEEDED',
      used + 2000,
    ]);
    expect(existsSync(join(f.projectsDir, project.id, 'large.sql'))).toBe(false);
    expect(f.git(project.id, 'rev-list', '--count', 'HEAD')).toBe(commits);
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
  });
});
