import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProject, startFixture, type VcsSyncFixture } from './helpers.js';

let f: VcsSyncFixture;

beforeAll(async () => {
  f = await startFixture({ VCS_SYNC_MAX_PROJECTS_ANONYMOUS: '1' });
});
afterAll(async () => {
  await f?.close();
});

describe('projects', () => {
  it('creates a project from the example template as a Git working tree whose first commit the account authored', async () => {
    const learner = await f.account();
    const created = await f.call(learner, 'POST', '/projects', { json: { name: 'library', template: 'example' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'library', template: 'example' });
    const dir = join(f.projectsDir, created.body.id);
    expect(await readFile(join(dir, 'seed/02-books.sql'), 'utf8')).toContain('Solaris');
    expect(existsSync(join(dir, 'init/01-schema.sql'))).toBe(true);
    expect(f.git(created.body.id, 'status', '--porcelain')).toBe('');
    const log = f.git(created.body.id, 'log', '--format=%ae %s').trim().split('\n');
    expect(log).toEqual([`${learner.id}@accounts.taidon.invalid Create the project from the example template`]);
    const { rows } = await f.pool.query('SELECT owner_id, size_bytes FROM projects WHERE id = $1', [created.body.id]);
    expect(rows[0].owner_id).toBe(learner.id);
    expect(Number(rows[0].size_bytes)).toBeGreaterThan(0);
    const [event] = await f.auditEvents('project-created');
    expect(event).toMatchObject({ account_id: learner.id, target: created.body.id, detail: { template: 'example' } });
  });

  it('creates an empty project with one empty commit, and lists the templates', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'blank');
    expect(f.git(project.id, 'ls-files')).toBe('');
    expect(f.git(project.id, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expect((await f.call(learner, 'GET', '/templates')).body.templates).toEqual(['empty', 'example']);
  });

  it('refuses an unknown template, a name already used and an account header missing, each with its code', async () => {
    const learner = await f.account();
    await newProject(f, learner, 'twice');
    const unknown = await f.call(learner, 'POST', '/projects', { json: { name: 'x', template: 'nope' } });
    expect([unknown.status, unknown.body.code]).toEqual([422, 'VCS_SYNC_TEMPLATE_NOT_FOUND']);
    const taken = await f.call(learner, 'POST', '/projects', { json: { name: 'twice' } });
    expect([taken.status, taken.body.code]).toEqual([409, 'VCS_SYNC_PROJECT_NAME_TAKEN']);
    const nobody = await f.call(undefined, 'GET', '/projects');
    expect([nobody.status, nobody.body.code]).toEqual([400, 'VCS_SYNC_ACCOUNT_REQUIRED']);
    const { rows } = await f.pool.query('SELECT count(*)::int AS n FROM projects WHERE owner_id = $1', [learner.id]);
    expect(rows[0].n).toBe(1);
  });

  it('answers 404 for another account’s project on every route and leaves it untouched', async () => {
    const owner = await f.account();
    const stranger = await f.account();
    const project = await newProject(f, owner, 'mine', 'example');
    const dir = join(f.projectsDir, project.id);
    const before = await readFile(join(dir, 'seed/01-authors.sql'), 'utf8');
    const head = f.git(project.id, 'rev-parse', 'HEAD');
    const base = `/projects/${project.id}`;
    const tries = [
      await f.call(stranger, 'GET', base),
      await f.call(stranger, 'DELETE', base),
      await f.call(stranger, 'GET', `${base}/files`),
      await f.call(stranger, 'GET', `${base}/files/seed/01-authors.sql`),
      await f.call(stranger, 'PUT', `${base}/files/seed/01-authors.sql`, {
        text: 'DROP TABLE authors;',
        headers: { 'if-match': '*' },
      }),
      await f.call(stranger, 'DELETE', `${base}/files/seed/01-authors.sql`),
      await f.call(stranger, 'POST', `${base}/rename`, { json: { from: 'README.md', to: 'x.md' } }),
      await f.call(stranger, 'GET', `${base}/history`),
      await f.call(stranger, 'GET', `${base}/diff?from=${head.slice(0, 12)}&to=${head.slice(0, 12)}`),
      await f.call(stranger, 'POST', `${base}/restore`, { json: { commit: head.slice(0, 12) } }),
    ];
    for (const answer of tries) expect([answer.status, answer.body?.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
    expect((await f.call(stranger, 'GET', '/projects')).body).toEqual([]);
    expect(await readFile(join(dir, 'seed/01-authors.sql'), 'utf8')).toBe(before);
    expect(f.git(project.id, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('deletes a project: the row and the working tree with its history go, and the event is recorded', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'doomed', 'example');
    const deleted = await f.call(learner, 'DELETE', `/projects/${project.id}`);
    expect(deleted.status).toBe(200);
    expect(existsSync(join(f.projectsDir, project.id))).toBe(false);
    expect((await f.pool.query('SELECT 1 FROM projects WHERE id = $1', [project.id])).rowCount).toBe(0);
    expect((await f.call(learner, 'GET', `/projects/${project.id}`)).status).toBe(404);
    const events = await f.auditEvents('project-deleted');
    expect(events.some((e) => e.target === project.id && e.account_id === learner.id)).toBe(true);
  });

  it('gives an anonymous account its small cap, and keeps its projects when it upgrades (same account id)', async () => {
    const anonymous = await f.account('anonymous');
    const project = await newProject(f, anonymous, 'first');
    const second = await f.call(anonymous, 'POST', '/projects', { json: { name: 'second' } });
    expect([second.status, second.body.code, second.body.limit]).toEqual([409, 'VCS_SYNC_PROJECT_LIMIT', 1]);
    const upgraded = await f.profileCall('POST', `/accounts/${anonymous.id}/upgrade`, {
      email: `${anonymous.id}@example.test`,
    });
    expect([upgraded.status, upgraded.body.id, upgraded.body.role]).toEqual([200, anonymous.id, 'learner']);
    const learner = { id: anonymous.id, role: 'learner' };
    expect((await f.call(learner, 'GET', '/projects')).body.map((p: { id: string }) => p.id)).toEqual([project.id]);
    expect((await f.call(learner, 'POST', '/projects', { json: { name: 'second' } })).status).toBe(201);
  });

  it('counts git commands by operation and outcome in /metrics', async () => {
    const metrics = await f.vcs.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/taidon_git_operations_total\{[^}]*operation="commit"[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics.body).toContain('taidon_git_operation_duration_seconds_bucket');
  });
});
