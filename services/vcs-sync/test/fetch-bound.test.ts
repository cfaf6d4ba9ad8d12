import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git } from '../src/git/git.js';
import { RemoteGit } from '../src/git/remote.js';
import { createGitMetrics } from '../src/metrics.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vcs-fetch-bound-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fetch', () => {
  it('cannot write a pack past its file size limit (the project cap), and leaves nothing of it behind', async () => {
    const source = join(dir, 'source');
    execFileSync('git', ['init', '-q', '-b', 'main', source]);
    await writeFile(join(source, 'big.sql'), randomBytes(200_000).toString('base64'));
    execFileSync('git', ['-C', source, 'add', '.']);
    execFileSync('git', ['-C', source, '-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '-qm', 'big']);
    const project = join(dir, 'project');
    const git = new Git({
      timeoutMs: 10_000,
      processesMax: 4,
      outputMaxBytes: 1 << 20,
      homeDir: dir,
      metrics: createGitMetrics(),
    });
    execFileSync('git', ['init', '-q', '-b', 'main', project]);
    const remote = new RemoteGit(git, { allowLoopbackHttp: false, allowFile: true, allowPrivate: false }, 10_000);
    await expect(remote.fetch(project, { url: `file://${source}` }, 'main', 64 * 1024)).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_FETCH_FAILED',
    });
    expect(await readdir(join(project, '.git', 'objects', 'pack'))).toEqual([]);
    // The control: with room enough, the same fetch lands.
    expect(await remote.fetch(project, { url: `file://${source}` }, 'main', 1 << 20)).toMatch(/^[0-9a-f]{40}$/);
  });
});
