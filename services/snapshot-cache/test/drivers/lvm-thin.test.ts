import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandAvailable } from '../../src/drivers/commands.js';
import { LvmThinDriver } from '../../src/drivers/lvm-thin.js';
import { describeDriverConformance } from './conformance.js';

// The suite runs where LVM exists and TAIDON_TEST_LVM_VG / TAIDON_TEST_LVM_POOL name a thin pool it may use.
const volumeGroup = process.env.TAIDON_TEST_LVM_VG;
const thinPool = process.env.TAIDON_TEST_LVM_POOL;

async function skipReason(): Promise<string | undefined> {
  if (!(await commandAvailable('lvcreate'))) return 'no `lvcreate` command (LVM2) on this machine';
  if (!volumeGroup || !thinPool) return 'TAIDON_TEST_LVM_VG and TAIDON_TEST_LVM_POOL are not set';
  return undefined;
}

describeDriverConformance({
  name: 'lvm-thin',
  skipReason: await skipReason(),
  enforcesReadOnlyLayers: true,
  cheapClones: true,
  smallFilesystem: false,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-lvm-'));
    const driver = new LvmThinDriver({
      rootDir: join(dir, 'root'),
      volumeGroup: volumeGroup ?? '',
      thinPool: thinPool ?? '',
      volumeBytes: 256 * 1024 ** 2,
    });
    await driver.prepare();
    return {
      driver,
      async cleanup() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
