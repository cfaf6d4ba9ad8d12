import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BtrfsDriver } from '../../src/drivers/btrfs.js';
import { commandAvailable } from '../../src/drivers/commands.js';
import { describeDriverConformance } from './conformance.js';

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  if (!(await commandAvailable('mkfs.btrfs'))) return 'mkfs.btrfs (btrfs-progs) is not installed';
  return undefined;
}

// Quotas off is the default; on, qgroups account sizes and cap clones, and every contract must hold the same.
for (const quotas of [false, true]) {
  describeDriverConformance({
    name: quotas ? 'btrfs_qgroups' : 'btrfs',
    skipReason: await skipReason(),
    enforcesReadOnlyLayers: true,
    cheapClones: true,
    smallFilesystem: true,
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'taidon-btrfs-'));
      // 256 MiB: below 1 GiB the driver makes mixed block groups, so filling data fills metadata too.
      const driver = new BtrfsDriver({
        rootDir: join(dir, 'root'),
        imagePath: join(dir, 'root.img'),
        imageBytes: 256 * 1024 ** 2,
        quotas,
      });
      await driver.prepare();
      expect(driver.hasQuotas).toBe(quotas);
      return {
        driver,
        async cleanup() {
          await driver.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

/** The options of the filesystem mounted at `dir`, as the kernel reports them. */
async function mountOptions(dir: string): Promise<string[]> {
  const line = (await readFile('/proc/self/mounts', 'utf8')).split('\n').find((l) => l.split(' ')[1] === dir);
  if (!line) throw new Error(`nothing is mounted at ${dir}`);
  return (line.split(' ')[3] ?? '').split(',');
}

const reason = await skipReason();
describe.skipIf(reason !== undefined)(`btrfs image barriers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  // Without barriers a snapshot's commit does not fsync the whole image file on the host (ADR 0014).
  for (const imageBarriers of [undefined, true]) {
    it(`mounts its own image ${imageBarriers ? 'with' : 'without'} barriers when imageBarriers is ${imageBarriers}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'taidon-btrfs-'));
      const rootDir = join(dir, 'root');
      const driver = new BtrfsDriver({
        rootDir,
        imagePath: join(dir, 'root.img'),
        imageBytes: 256 * 1024 ** 2,
        imageBarriers,
      });
      try {
        await driver.prepare();
        const options = await mountOptions(rootDir);
        expect(options).toContain('noatime');
        expect(options.includes('nobarrier')).toBe(!imageBarriers);
      } finally {
        await driver.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
