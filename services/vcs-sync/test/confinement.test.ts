import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountGate } from '../src/domain/account-gate.js';
import { newProject, startFixture, type VcsSyncFixture } from './helpers.js';

let f: VcsSyncFixture;

beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('confinement', () => {
  it('refuses each kind of path outside a project with its own code, before anything is written', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const put = (path: string) => f.call(learner, 'PUT', `/projects/${project.id}/files/${path}`, { text: 'x' });
    const cases: [string, number, string][] = [
      // An encoded slash keeps a URL's dot segments from being resolved by the client: they reach the service.
      ['..%2F..%2Fescaped.sql', 422, 'VCS_SYNC_PATH_TRAVERSAL'],
      ['a/..%2Fb.sql', 422, 'VCS_SYNC_PATH_TRAVERSAL'],
      ['%2Fetc%2Fpasswd', 422, 'VCS_SYNC_PATH_ABSOLUTE'],
      ['.git/config', 422, 'VCS_SYNC_PATH_GIT_DIR'],
      ['.GIT/hooks/pre-commit', 422, 'VCS_SYNC_PATH_GIT_DIR'],
      ['sub/.git./config', 422, 'VCS_SYNC_PATH_GIT_DIR'],
      ['a%01b.sql', 422, 'VCS_SYNC_PATH_INVALID'],
      ['a%5Cb.sql', 422, 'VCS_SYNC_PATH_INVALID'],
      ['a//b.sql', 422, 'VCS_SYNC_PATH_INVALID'],
      [`${'x'.repeat(600)}.sql`, 422, 'VCS_SYNC_PATH_INVALID'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await put(path);
      expect([path, answer.status, answer.body.code]).toEqual([path, status, code]);
    }
    expect(existsSync(join(f.projectsDir, 'escaped.sql'))).toBe(false);
    expect(await readFile(join(f.projectsDir, project.id, '.git', 'config'), 'utf8')).not.toContain('x');
    expect(f.git(project.id, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    const read = await f.call(learner, 'GET', `/projects/${project.id}/files/.git/config`);
    expect([read.status, read.body.code]).toEqual([422, 'VCS_SYNC_PATH_GIT_DIR']);
  });

  it('never writes through or over a symbolic link found in the working tree, and never serves one', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const dir = join(f.projectsDir, project.id);
    const outside = join(tmpdir(), `vcs-outside-${project.id}`);
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'target.sql'), 'outside');
    // Links planted behind the service's back (a restore or a future pull must never make them; here by hand).
    await symlink(outside, join(dir, 'linked-dir'));
    const through = await f.call(learner, 'PUT', `/projects/${project.id}/files/linked-dir/target.sql`, {
      text: 'pwned',
    });
    expect([through.status, through.body.code]).toEqual([422, 'VCS_SYNC_SYMLINK']);
    // A refused change puts the working tree back to its last commit: what was planted is gone with it.
    expect(existsSync(join(dir, 'linked-dir'))).toBe(false);
    await symlink(join(outside, 'target.sql'), join(dir, 'linked.sql'));
    const read = await f.call(learner, 'GET', `/projects/${project.id}/files/linked.sql`);
    expect([read.status, read.body.code]).toEqual([404, 'VCS_SYNC_FILE_NOT_FOUND']);
    const over = await f.call(learner, 'PUT', `/projects/${project.id}/files/linked.sql`, { text: 'pwned' });
    expect([over.status, over.body.code]).toEqual([422, 'VCS_SYNC_SYMLINK']);
    expect(await readFile(join(outside, 'target.sql'), 'utf8')).toBe('outside');
    expect(await readFile(join(outside, 'target.sql'), 'utf8')).not.toContain('pwned');
  });

  it('refuses to restore a commit that holds a symbolic link', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const dir = join(f.projectsDir, project.id);
    // A commit with a link to /etc/passwd, made with git directly (as a pulled history could hold one).
    await symlink('/etc/passwd', join(dir, 'passwd.sql'));
    f.git(project.id, 'add', 'passwd.sql');
    f.git(project.id, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'link');
    const linked = f.git(project.id, 'rev-parse', 'HEAD').trim();
    f.git(project.id, 'rm', '-q', 'passwd.sql');
    f.git(project.id, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'unlink');
    for (const body of [{ commit: linked }, { commit: linked, path: 'passwd.sql' }]) {
      const answer = await f.call(learner, 'POST', `/projects/${project.id}/restore`, { json: body });
      expect([answer.status, answer.body.code]).toEqual([422, 'VCS_SYNC_UNSAFE_TREE']);
    }
    expect(existsSync(join(dir, 'passwd.sql'))).toBe(false);
  });

  it('runs no hook, whether in .git/hooks or where the repository config points', async () => {
    const learner = await f.account();
    const project = await newProject(f, learner);
    const dir = join(f.projectsDir, project.id);
    const marker = join(tmpdir(), `vcs-hook-ran-${project.id}`);
    const hook = `#!/bin/sh\necho ran > ${marker}\n`;
    const elsewhere = join(tmpdir(), `vcs-hooks-${project.id}`);
    await mkdir(elsewhere, { recursive: true });
    for (const hooks of [join(dir, '.git', 'hooks'), elsewhere]) {
      await mkdir(hooks, { recursive: true });
      for (const name of ['pre-commit', 'commit-msg', 'post-commit', 'post-checkout', 'reference-transaction']) {
        await writeFile(join(hooks, name), hook);
        await chmod(join(hooks, name), 0o755);
      }
    }
    f.git(project.id, 'config', 'core.hooksPath', elsewhere);
    const saved = await f.call(learner, 'PUT', `/projects/${project.id}/files/a.sql`, { text: 'SELECT 1;' });
    expect(saved.status).toBe(201);
    const restored = await f.call(learner, 'POST', `/projects/${project.id}/restore`, {
      json: { commit: f.git(project.id, 'rev-parse', 'HEAD~1').trim() },
    });
    expect([restored.status, restored.body.changed]).toEqual([200, true]);
    expect(existsSync(marker)).toBe(false);
    // The control: the same hooks do run for a plain git commit in that repository.
    f.git(project.id, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'by hand');
    expect(existsSync(marker)).toBe(true);
  });
});

describe('AccountGate', () => {
  it('runs an account’s operations a few at a time, queues a few more and refuses the rest with VCS_SYNC_BUSY', async () => {
    const gate = new AccountGate(1, 1);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: string[] = [];
    const first = gate.run('a', async () => {
      await held;
      order.push('first');
    });
    const second = gate.run('a', async () => {
      order.push('second');
    });
    await expect(gate.run('a', async () => 'third')).rejects.toMatchObject({ code: 'VCS_SYNC_BUSY', statusCode: 429 });
    // Another account is not held up by this one.
    expect(await gate.run('b', async () => 'other')).toBe('other');
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(await gate.run('a', async () => 'after')).toBe('after');
  });
});
