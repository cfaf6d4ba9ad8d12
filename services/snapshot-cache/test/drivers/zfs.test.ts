import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandAvailable } from '../../src/drivers/commands.js';
import { ZfsDriver } from '../../src/drivers/zfs.js';
import { describeDriverConformance } from './conformance.js';

// The suite runs where `zfs` exists and TAIDON_TEST_ZFS_DATASET names a dataset it may fill and destroy.
const dataset = process.env.TAIDON_TEST_ZFS_DATASET;

async function skipReason(): Promise<string | undefined> {
  if (!(await commandAvailable('zfs'))) return 'no `zfs` command on this machine';
  if (!dataset) return 'TAIDON_TEST_ZFS_DATASET is not set';
  return undefined;
}

describeDriverConformance({
  name: 'zfs',
  skipReason: await skipReason(),
  enforcesReadOnlyLayers: true,
  cheapClones: true,
  smallFilesystem: false,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-zfs-'));
    const driver = new ZfsDriver({ rootDir: join(dir, 'root'), dataset: `${dataset}/t${Date.now()}` });
    await driver.prepare();
    return {
      driver,
      async cleanup() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
