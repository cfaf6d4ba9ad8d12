import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git } from '../src/git/git.js';
import { Repository } from '../src/git/repository.js';
import { createGitMetrics } from '../src/metrics.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vcs-git-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Git', () => {
  it('kills a git command past its deadline and answers VCS_SYNC_GIT_TIMEOUT, counted as a timeout', async () => {
    const metrics = createGitMetrics();
    await new Repository(new Git({ timeoutMs: 10_000, homeDir: dir, metrics }), dir).init();
    // 1 ms: less than any git process takes to start, so the deadline always comes first.
    const hurried = new Git({ timeoutMs: 1, homeDir: dir, metrics });
    await expect(hurried.run(dir, ['hash-object', '--stdin'], { input: 'x'.repeat(1_000_000) })).rejects.toMatchObject({
      code: 'VCS_SYNC_GIT_TIMEOUT',
      statusCode: 503,
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/taidon_git_operations_total\{[^}]*operation="hash-object"[^}]*outcome="timeout"[^}]*\} 1/);
    expect(text).toMatch(/taidon_git_operations_total\{[^}]*operation="init"[^}]*outcome="ok"[^}]*\} 1/);
  });
});
