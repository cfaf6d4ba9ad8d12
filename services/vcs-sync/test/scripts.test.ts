import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProject, startFixture, type VcsSyncFixture } from './helpers.js';

let f: VcsSyncFixture;

beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

const BOUNDS = 'maxFiles=1000&maxBytes=67108864';

describe('GET /projects/:id/scripts', () => {
  it('answers init/ then seed/ scripts in name order to run, and other .sql files for includes only', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'library', 'example');
    const save = (path: string, text: string) =>
      f.call(learner, 'PUT', `/projects/${project.id}/files/${path}`, { text });
    await save('seed/00-first.sql', '\\ir ../lib/rows.sql\n');
    await save('lib/rows.sql', 'SELECT 1;\n');
    await save('init/sub/skipped.sql', 'SELECT 2;\n');
    const answer = await f.call(learner, 'GET', `/projects/${project.id}/scripts?${BOUNDS}`);
    expect(answer.status, answer.text).toBe(200);
    const files = answer.body.files as { path: string; sql: string; run?: boolean }[];
    expect(files.filter((s) => s.run !== false).map((s) => s.path)).toEqual([
      'init/01-schema.sql',
      'seed/00-first.sql',
      'seed/01-authors.sql',
      'seed/02-books.sql',
    ]);
    expect(files.filter((s) => s.run === false).map((s) => s.path)).toEqual([
      'init/sub/skipped.sql',
      'lib/rows.sql',
      'test/01-every-author-has-books.sql',
      'test/02-books-after-birth.sql',
    ]);
    expect(files.find((s) => s.path === 'seed/02-books.sql')?.sql).toContain('Solaris');
    const history = await f.call(learner, 'GET', `/projects/${project.id}/history`);
    expect(answer.body.commit).toBe(history.body.commits[0].commit);
  });

  it('reads the scripts as they were at an earlier commit', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'library', 'example');
    const first = await f.call(learner, 'PUT', `/projects/${project.id}/files/seed/03-more.sql`, { text: 'v1' });
    await f.call(learner, 'PUT', `/projects/${project.id}/files/seed/03-more.sql`, {
      text: 'v2',
      headers: { 'if-match': first.body.version },
    });
    const then = await f.call(learner, 'GET', `/projects/${project.id}/scripts?ref=${first.body.commit}&${BOUNDS}`);
    expect(then.body.commit).toBe(first.body.commit);
    expect(then.body.files.find((s: { path: string }) => s.path === 'seed/03-more.sql').sql).toBe('v1');
    const unknown = await f.call(learner, 'GET', `/projects/${project.id}/scripts?ref=abcdef12&${BOUNDS}`);
    expect([unknown.status, unknown.body.code]).toEqual([422, 'VCS_SYNC_COMMIT_NOT_FOUND']);
  });

  it("answers 404 for another account's project", async () => {
    const owner = await f.account();
    const stranger = await f.account();
    const project = await newProject(f, owner, 'mine', 'example');
    const answer = await f.call(stranger, 'GET', `/projects/${project.id}/scripts?${BOUNDS}`);
    expect([answer.status, answer.body.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
  });

  it('refuses scripts past the bounds, by count and by bytes, with what they would be', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'library', 'example');
    const files = await f.call(learner, 'GET', `/projects/${project.id}/scripts?maxFiles=3&maxBytes=67108864`);
    expect([files.status, files.body.code, files.body.limit, files.body.max, files.body.wouldBe]).toEqual([
      413,
      'VCS_SYNC_SCRIPTS_TOO_LARGE',
      'files',
      3,
      5,
    ]);
    const bytes = await f.call(learner, 'GET', `/projects/${project.id}/scripts?maxFiles=1000&maxBytes=100`);
    expect([bytes.status, bytes.body.limit]).toEqual([413, 'bytes']);
  });
});
