import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git, type GitLimits } from '../src/git/git.js';
import { RemoteGit } from '../src/git/remote.js';
import { blobIdIn, Repository } from '../src/git/repository.js';
import { createGitMetrics } from '../src/metrics.js';

let dir: string;

function limits(overrides: Partial<GitLimits> = {}): GitLimits {
  return {
    timeoutMs: 10_000,
    processesMax: 8,
    outputMaxBytes: 1024 * 1024,
    homeDir: dir,
    metrics: createGitMetrics(),
    ...overrides,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vcs-git-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Git', () => {
  it('kills a git command past its deadline and answers VCS_SYNC_GIT_TIMEOUT, counted as a timeout', async () => {
    const metrics = createGitMetrics();
    await new Repository(new Git(limits({ metrics })), dir).init();
    // 1 ms: less than any git process takes to start, so the deadline always comes first.
    const hurried = new Git(limits({ timeoutMs: 1, metrics }));
    await expect(hurried.run(dir, ['hash-object', '--stdin'], { input: 'x'.repeat(1_000_000) })).rejects.toMatchObject({
      code: 'VCS_SYNC_GIT_TIMEOUT',
      statusCode: 503,
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/taidon_git_operations_total\{[^}]*operation="hash-object"[^}]*outcome="timeout"[^}]*\} 1/);
    expect(text).toMatch(/taidon_git_operations_total\{[^}]*operation="init"[^}]*outcome="ok"[^}]*\} 1/);
  });

  it('kills a git command that prints past VCS_SYNC_GIT_OUTPUT_MAX_BYTES and answers VCS_SYNC_GIT_OUTPUT_TOO_LARGE', async () => {
    const git = new Git(limits({ outputMaxBytes: 64 * 1024 }));
    const blob = (await git.run(dir, ['hash-object', '-w', '--stdin'], { input: 'y'.repeat(200_000) })).trim();
    await expect(git.run(dir, ['cat-file', 'blob', blob])).rejects.toMatchObject({
      code: 'VCS_SYNC_GIT_OUTPUT_TOO_LARGE',
      statusCode: 413,
    });
    expect((await git.run(dir, ['cat-file', '-s', blob])).trim()).toBe('200000');
  });

  it('runs at most VCS_SYNC_GIT_PROCESSES_MAX git processes at once, whoever asks', async () => {
    const git = new Git(limits({ processesMax: 2 }));
    const log = join(dir, 'slots.log');
    // Six calls at once, each a git process that notes its start and end around 300 ms of sleep (a test-only alias).
    const alias = `alias.slotprobe=!f() { echo s >> ${log}; sleep 0.3; echo e >> ${log}; }; f`;
    await Promise.all(Array.from({ length: 6 }, () => git.run(dir, ['-c', alias, 'slotprobe'])));
    let running = 0;
    let most = 0;
    for (const mark of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) {
      running += mark === 's' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
  });

  it('refuses an ext:: remote in git itself (protocol.allow), even past the URL check, running nothing', async () => {
    const git = new Git(limits());
    const marker = join(dir, 'ext-ran');
    const remote = new RemoteGit(git, { allowLoopbackHttp: true, allowFile: false, allowPrivate: false }, 10_000);
    await expect(remote.branchCommit(dir, { url: `ext::sh -c touch% ${marker}` }, 'main')).rejects.toThrow();
    await expect(remote.branchCommit(dir, { url: `file://${dir}` }, 'main')).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_NOT_FOUND',
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('speaks file:// only where VCS_SYNC_ALLOW_FILE_REMOTES allows it (git refuses it otherwise)', async () => {
    const git = new Git(limits());
    const bare = join(dir, 'served.git');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    const url = `file://${bare}`;
    const allowed = new RemoteGit(git, { allowLoopbackHttp: false, allowFile: true, allowPrivate: false }, 10_000);
    expect(await allowed.branchCommit(dir, { url }, 'main')).toBeUndefined();
    const refused = new RemoteGit(git, { allowLoopbackHttp: false, allowFile: false, allowPrivate: false }, 10_000);
    await expect(refused.branchCommit(dir, { url }, 'main')).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_NOT_FOUND',
    });
  });
});

describe('Repository', () => {
  it('computes the blob id git gives a text, SHA-1 and SHA-256 alike, without a process', async () => {
    const text = 'SELECT 1;\n-- Stanisław Lem, 東京\n';
    for (const format of ['sha1', 'sha256']) {
      const repo = join(dir, `blob-${format}`);
      execFileSync('git', ['init', '-q', `--object-format=${format}`, repo]);
      const byGit = execFileSync('git', ['hash-object', '--stdin'], {
        cwd: repo,
        input: text,
        encoding: 'utf8',
      }).trim();
      expect(blobIdIn(byGit, text)).toBe(byGit);
      expect(blobIdIn(byGit, '')).toBe(
        execFileSync('git', ['hash-object', '--stdin'], { cwd: repo, input: '', encoding: 'utf8' }).trim(),
      );
    }
  });

  it('commits the index on its parent as the author, and only while HEAD is still at that parent', async () => {
    const repoDir = await mkdtemp(join(dir, 'commit-'));
    const repo = new Repository(new Git(limits()), repoDir);
    await repo.init();
    await repo.commit('first', { name: 'account a', email: 'a@accounts.taidon.invalid' }, true);
    const parent = await repo.head();
    await writeFile(join(repoDir, 'a.sql'), 'SELECT 1;\n');
    await repo.stage(['a.sql']);
    const commit = await repo.commitIndex(
      'Save a.sql',
      { name: 'account b', email: 'b@accounts.taidon.invalid' },
      parent,
    );
    expect(await repo.head()).toBe(commit);
    const [logged] = await repo.log(1);
    expect(logged).toMatchObject({ commit, parents: [parent], authorName: 'account b', message: 'Save a.sql' });
    expect((await repo.tree(commit)).map((e) => e.path)).toEqual(['a.sql']);
    // A parent that is not HEAD any more: refused, HEAD untouched.
    await writeFile(join(repoDir, 'b.sql'), 'SELECT 2;\n');
    await repo.stage(['b.sql']);
    await expect(repo.commitIndex('stale', { name: 'x', email: 'x@x.invalid' }, parent)).rejects.toThrow();
    expect(await repo.head()).toBe(commit);
  });
});
