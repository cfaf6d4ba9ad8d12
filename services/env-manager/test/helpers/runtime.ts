import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chownTree, serverOsUser } from '@taidon/kit';
import { captureLogger } from '@taidon/kit/testing';
import type { TemplateSettings } from '../../src/engine/template.js';
import { createLocalRuntime, type LocalRuntimeOptions } from '../../src/runtimes/local.js';
import type { Runtime } from '../../src/runtimes/runtime.js';

/** Template settings for tests: the defaults of the configuration. */
export const TEST_SETTINGS: TemplateSettings = {
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  tempFileLimitKb: 1_048_576,
  workMemKb: 4096,
};

export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/** A local runtime on a fresh temporary directory, and a way to make empty data directories in it. */
export async function createTestRuntime(overrides: Partial<LocalRuntimeOptions> = {}): Promise<{
  runtime: Runtime;
  root: string;
  lines: () => string[];
  emptyDataDir(name: string): Promise<string>;
  cleanup(): Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'em-'));
  await chownTree(root, serverOsUser());
  const { logger, lines } = captureLogger('env-manager');
  const runtime = await createLocalRuntime({
    runDir: join(root, 'run'),
    limits: { memoryMaxBytes: 256 * 1024 * 1024, pidsMax: 64, cpuMax: '100000 100000' },
    logger,
    cgroupName: `taidon-test-${process.pid}`,
    ...overrides,
  });
  return {
    runtime,
    root,
    lines,
    async emptyDataDir(name) {
      const dir = join(root, 'volumes', name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chownTree(join(root, 'volumes'), serverOsUser());
      return dir;
    },
    async cleanup() {
      if (runtime.limits.cgroupParent) await rmdir(runtime.limits.cgroupParent).catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
