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

describe('GET /projects/:id/exercise-files', () => {
  it('answers the start state (init/ then seed/) and every file under exercises/, at a commit', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner, 'library', 'example');
    const save = (path: string, text: string) =>
      f.call(learner, 'PUT', `/projects/${project.id}/files/${path}`, { text });
    await save('exercises/pack.yaml', 'slug: library\ntitle: Library\n');
    const first = await save('exercises/old-books/solution.sql', 'SELECT 1;\n');
    await save('exercises/old-books/task.md', 'Old books.\n');
    await f.call(learner, 'PUT', `/projects/${project.id}/files/exercises/old-books/solution.sql`, {
      text: 'SELECT 2;\n',
      headers: { 'if-match': first.body.version },
    });
    await save('exercises/old-books/notes.txt', 'not read\n');
    const answer = await f.call(learner, 'GET', `/projects/${project.id}/exercise-files?${BOUNDS}`);
    expect(answer.status, answer.text).toBe(200);
    const paths = (answer.body.files as { path: string }[]).map((file) => file.path);
    expect(paths).toEqual([
      'init/01-schema.sql',
      'seed/01-authors.sql',
      'seed/02-books.sql',
      'exercises/old-books/solution.sql',
      'exercises/old-books/task.md',
      'exercises/pack.yaml',
    ]);
    const text = (files: { path: string; text: string }[], path: string) => files.find((x) => x.path === path)?.text;
    expect(text(answer.body.files, 'exercises/old-books/solution.sql')).toBe('SELECT 2;\n');
    const then = await f.call(
      learner,
      'GET',
      `/projects/${project.id}/exercise-files?ref=${first.body.commit}&${BOUNDS}`,
    );
    expect(then.body.commit).toBe(first.body.commit);
    expect(text(then.body.files, 'exercises/old-books/solution.sql')).toBe('SELECT 1;\n');
  });

  it("answers 404 for another account's project and 413 past the bounds", async () => {
    const owner = await f.account();
    const project = await newProject(f, owner, 'mine', 'example');
    const stranger = await f.call(await f.account(), 'GET', `/projects/${project.id}/exercise-files?${BOUNDS}`);
    expect([stranger.status, stranger.body.code]).toEqual([404, 'VCS_SYNC_PROJECT_NOT_FOUND']);
    const tooMany = await f.call(owner, 'GET', `/projects/${project.id}/exercise-files?maxFiles=2&maxBytes=67108864`);
    expect([tooMany.status, tooMany.body.code, tooMany.body.limit, tooMany.body.wouldBe]).toEqual([
      413,
      'VCS_SYNC_SCRIPTS_TOO_LARGE',
      'files',
      3,
    ]);
  });
});
