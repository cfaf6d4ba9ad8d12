import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProject, startFixture, type VcsSyncFixture } from './helpers.js';

let f: VcsSyncFixture;

beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

/** A project with three saves of a.sql (v1, v2, v3) and b.sql added with v2. */
async function threeSaves() {
  const learner = await f.account();
  const project = await newProject(f, learner);
  const url = (path: string) => `/projects/${project.id}/files/${path}`;
  const v1 = await f.call(learner, 'PUT', url('a.sql'), { text: 'SELECT 1;\n' });
  const v2 = await f.call(learner, 'PUT', url('a.sql'), {
    text: 'SELECT 2;\n',
    headers: { 'if-match': v1.body.version },
  });
  const b = await f.call(learner, 'PUT', url('b.sql'), { text: 'SELECT 42;\n' });
  const v3 = await f.call(learner, 'PUT', url('a.sql'), {
    text: 'SELECT 3;\n',
    headers: { 'if-match': v2.body.version },
  });
  return { learner, project, dir: join(f.projectsDir, project.id), v1: v1.body, v2: v2.body, b: b.body, v3: v3.body };
}

describe('history, diff and restore', () => {
  it('lists the history of the project and of one file, newest first', async () => {
    const { learner, project, v1, v2, b, v3 } = await threeSaves();
    const all = await f.call(learner, 'GET', `/projects/${project.id}/history`);
    expect(all.body.commits.map((c: { commit: string }) => c.commit).slice(0, 4)).toEqual([
      v3.commit,
      b.commit,
      v2.commit,
      v1.commit,
    ]);
    expect(all.body.commits).toHaveLength(5);
    expect(all.body.commits[0]).toMatchObject({
      message: 'Save a.sql',
      authorEmail: `${learner.id}@accounts.taidon.invalid`,
      parents: [b.commit],
    });
    const one = await f.call(learner, 'GET', `/projects/${project.id}/history?path=a.sql&limit=2`);
    expect(one.body.commits.map((c: { commit: string }) => c.commit)).toEqual([v3.commit, v2.commit]);
  });

  it('answers the diff between two commits: the files and the patch', async () => {
    const { learner, project, v1, v3 } = await threeSaves();
    const answer = await f.call(
      learner,
      'GET',
      `/projects/${project.id}/diff?from=${v1.commit}&to=${v3.commit.slice(0, 10)}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.files).toEqual([
      { status: 'M', path: 'a.sql' },
      { status: 'A', path: 'b.sql' },
    ]);
    expect(answer.body.patch).toContain('-SELECT 1;');
    expect(answer.body.patch).toContain('+SELECT 3;');
    expect(answer.body.truncated).toBe(false);
    const unknown = await f.call(learner, 'GET', `/projects/${project.id}/diff?from=${v1.commit}&to=deadbeef`);
    expect([unknown.status, unknown.body.code]).toEqual([422, 'VCS_SYNC_COMMIT_NOT_FOUND']);
  });

  it('restores one file as it was at a commit, as a new commit on top of the history', async () => {
    const { learner, project, dir, v1, v3 } = await threeSaves();
    const restored = await f.call(learner, 'POST', `/projects/${project.id}/restore`, {
      json: { commit: v1.commit, path: 'a.sql' },
    });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ restoredFrom: v1.commit, path: 'a.sql', changed: true });
    expect(await readFile(join(dir, 'a.sql'), 'utf8')).toBe('SELECT 1;\n');
    expect(await readFile(join(dir, 'b.sql'), 'utf8')).toBe('SELECT 42;\n');
    expect(f.git(project.id, 'log', '-2', '--format=%H %s').trim().split('\n')).toEqual([
      `${restored.body.commit} Restore a.sql as at ${v1.commit.slice(0, 12)}`,
      `${v3.commit} Save a.sql`,
    ]);
    const [event] = await f.auditEvents('project-restored');
    expect(event?.target).toBeDefined();
    // The same restore again changes nothing and makes no commit.
    const again = await f.call(learner, 'POST', `/projects/${project.id}/restore`, {
      json: { commit: v1.commit, path: 'a.sql' },
    });
    expect([again.body.changed, again.body.commit]).toEqual([false, restored.body.commit]);
  });

  it('restores the whole tree as at a commit: later files go, older texts come back, as one new commit', async () => {
    const { learner, project, dir, v2 } = await threeSaves();
    const before = Number(f.git(project.id, 'rev-list', '--count', 'HEAD'));
    const restored = await f.call(learner, 'POST', `/projects/${project.id}/restore`, { json: { commit: v2.commit } });
    expect([restored.status, restored.body.changed, restored.body.path]).toEqual([200, true, null]);
    expect(await readFile(join(dir, 'a.sql'), 'utf8')).toBe('SELECT 2;\n');
    expect(existsSync(join(dir, 'b.sql'))).toBe(false);
    expect(Number(f.git(project.id, 'rev-list', '--count', 'HEAD'))).toBe(before + 1);
    expect(f.git(project.id, 'rev-parse', 'HEAD^{tree}')).toBe(f.git(project.id, 'rev-parse', `${v2.commit}^{tree}`));
    expect(f.git(project.id, 'status', '--porcelain')).toBe('');
  });

  it('restoring a file that did not exist at the commit deletes it, as a commit', async () => {
    const { learner, project, dir, v1 } = await threeSaves();
    const restored = await f.call(learner, 'POST', `/projects/${project.id}/restore`, {
      json: { commit: v1.commit, path: 'b.sql' },
    });
    expect([restored.status, restored.body.changed]).toEqual([200, true]);
    expect(existsSync(join(dir, 'b.sql'))).toBe(false);
    expect(f.git(project.id, 'ls-files', 'b.sql')).toBe('');
  });
});
