import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@taidon/kit';
import { CopyDriver } from '../../src/drivers/copy.js';
import { describeDriverConformance } from './conformance.js';

const isRoot = process.getuid?.() === 0;

describeDriverConformance({
  name: 'copy',
  enforcesReadOnlyLayers: isRoot,
  cheapClones: false,
  smallFilesystem: isRoot,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-copy-'));
    const rootDir = join(dir, 'root');
    await mkdir(rootDir);
    // As root, a 64 MiB tmpfs: small enough to fill in the full-disk case. Otherwise a plain directory.
    if (isRoot) await runCommand('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', rootDir], { timeoutMs: 10_000 });
    const driver = new CopyDriver({ rootDir });
    await driver.prepare();
    return {
      driver,
      async cleanup() {
        await driver.close();
        if (isRoot) await runCommand('umount', [rootDir], { timeoutMs: 10_000 });
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
