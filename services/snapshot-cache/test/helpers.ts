import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPool } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { LayerCache } from '../src/domain/layer-cache.js';
import type { CowDriver } from '../src/drivers/driver.js';
import { createSnapshotCacheMetrics } from '../src/metrics.js';
import { migrateSnapshotCache } from '../src/migrate.js';

/** A fresh state key. */
export function randomKey(): string {
  return randomBytes(32).toString('hex');
}

/** A migrated database of its own for one test file. */
export async function createCacheDatabase(prefix: string): Promise<{ db: TestDatabase; pool: pg.Pool }> {
  const db = await createTestDatabase(prefix);
  const pool = createPool(db.url, { applicationName: 'snapshot-cache-test', max: 20 });
  await migrateSnapshotCache(pool);
  return { db, pool };
}

/** A LayerCache on `driver` with its own metrics. */
export function createCache(pool: pg.Pool, driver: CowDriver, budgetBytes = 1024 ** 4): LayerCache {
  return new LayerCache({ pool, driver, metrics: createSnapshotCacheMetrics(), budgetBytes, halfLifeMs: 86_400_000 });
}

/** Writes `bytes` of incompressible data to `dir/name` and flushes it. */
export async function writeRandomFile(dir: string, name: string, bytes: number): Promise<void> {
  const file = await open(join(dir, name), 'w');
  try {
    for (let written = 0; written < bytes; written += 1024 * 1024) {
      await file.write(randomBytes(Math.min(1024 * 1024, bytes - written)));
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Writes to `dir` until the filesystem refuses with ENOSPC (the error it expects). */
export async function fillFilesystem(dir: string): Promise<void> {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const file = await open(join(dir, 'filler'), 'w');
  try {
    for (;;) {
      await file.write(chunk);
      if (Math.random() < 0.1) await file.sync();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close().catch(() => {});
  }
  // Small files land in metadata on btrfs: fill that too.
  for (let i = 0; ; i++) {
    try {
      await writeFile(join(dir, `small-${i}`), 'x');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      return;
    }
  }
}

export { captureLogger };
