import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serverOsUser } from '@taidon/kit';
import type { TestDatabase } from '@taidon/kit/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CowDriver } from '../../src/drivers/driver.js';
import { createCache, createCacheDatabase, fillFilesystem, randomKey, writeRandomFile } from '../helpers.js';

/** A driver under test: how to make it, and what it promises beyond the interface. */
export interface ConformanceTarget {
  name: string;
  /** Why the suite cannot run on this machine; printed, and the suite is skipped. */
  skipReason?: string | undefined;
  /** A prepared driver on a fresh temporary root, and how to undo everything setup did. */
  setup(): Promise<{ driver: CowDriver; cleanup(): Promise<void> }>;
  /** Writing to a layer fails (even as root). */
  enforcesReadOnlyLayers: boolean;
  /** A fresh clone costs ~nothing until written. */
  cheapClones: boolean;
  /** The root is on a small filesystem the last test may fill (full-disk behaviour). */
  smallFilesystem: boolean;
}

const MiB = 1024 * 1024;

/** The behaviour every CowDriver shares, run against real storage. */
export function describeDriverConformance(target: ConformanceTarget): void {
  if (target.skipReason) console.info(`[snapshot-cache] ${target.name} conformance skipped: ${target.skipReason}`);
  const title = `${target.name} driver conformance${target.skipReason ? ` (skipped: ${target.skipReason})` : ''}`;
  describe.skipIf(target.skipReason !== undefined)(title, () => {
    let driver: CowDriver;
    let cleanup: () => Promise<void>;
    let db: TestDatabase;
    let pool: pg.Pool;

    beforeAll(async () => {
      ({ driver, cleanup } = await target.setup());
      ({ db, pool } = await createCacheDatabase(`sc_${target.name.replace('-', '_')}`));
    });
    afterAll(async () => {
      await pool?.end();
      await db?.drop();
      await cleanup?.();
    });

    async function volumeWithFiles(): Promise<string> {
      const id = randomUUID();
      const path = await driver.createVolume(id);
      await writeFile(join(path, 'PG_VERSION'), '18\n');
      await writeRandomFile(path, 'base', MiB);
      return id;
    }

    it('creates an empty writable volume owned by the PostgreSQL user, mode 0700', async () => {
      const id = randomUUID();
      const path = await driver.createVolume(id);
      expect(path).toBe(driver.volumePath(id));
      expect(await readdir(path)).toEqual([]);
      const info = await stat(path);
      expect(info.mode & 0o777).toBe(0o700);
      const user = serverOsUser();
      if (user.uid !== undefined) expect(info.uid).toBe(user.uid);
      expect((await stat(driver.rootDir)).mode & 0o777).toBe(0o711);
      await writeFile(join(path, 'hello'), 'world');
      expect((await driver.list()).volumes).toContain(id);
    });

    it('snapshots a volume into a layer that holds its files and stays as it was', async () => {
      const volumeId = await volumeWithFiles();
      const layerId = randomKey();
      const path = await driver.snapshotVolume(volumeId, layerId);
      expect(path).toBe(driver.layerPath(layerId));
      expect(await readFile(join(path, 'PG_VERSION'), 'utf8')).toBe('18\n');
      await writeFile(join(driver.volumePath(volumeId), 'PG_VERSION'), '19\n');
      expect(await readFile(join(path, 'PG_VERSION'), 'utf8')).toBe('18\n');
      if (target.enforcesReadOnlyLayers) {
        await expect(writeFile(join(path, 'PG_VERSION'), 'changed')).rejects.toMatchObject({ code: 'EROFS' });
      }
      expect((await driver.list()).layers).toContain(layerId);
    });

    it('clones a layer into writable volumes whose changes reach neither the layer nor each other', async () => {
      const layerId = randomKey();
      await driver.snapshotVolume(await volumeWithFiles(), layerId);
      const [a, b] = [randomUUID(), randomUUID()];
      const pathA = await driver.cloneLayer(layerId, a);
      const pathB = await driver.cloneLayer(layerId, b);
      await writeFile(join(pathA, 'PG_VERSION'), 'a\n');
      await writeFile(join(pathA, 'only-a'), 'a');
      expect(await readFile(join(pathB, 'PG_VERSION'), 'utf8')).toBe('18\n');
      expect(await readFile(join(driver.layerPath(layerId), 'PG_VERSION'), 'utf8')).toBe('18\n');
      expect(await readdir(driver.layerPath(layerId))).not.toContain('only-a');
      expect((await stat(pathA)).uid).toBe((await stat(driver.layerPath(layerId))).uid);
      expect((await stat(pathA)).mode & 0o777).toBe(0o700);
    });

    it('destroys volumes and layers, from disk and from list(), and tolerates destroying them twice', async () => {
      const volumeId = await volumeWithFiles();
      const layerId = randomKey();
      await driver.snapshotVolume(volumeId, layerId);
      await driver.destroyVolume(volumeId);
      await driver.destroyLayer(layerId);
      await driver.destroyVolume(volumeId);
      await driver.destroyLayer(layerId);
      const listed = await driver.list();
      expect(listed.volumes).not.toContain(volumeId);
      expect(listed.layers).not.toContain(layerId);
      await expect(stat(driver.volumePath(volumeId))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(driver.layerPath(layerId))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('accounts a clone by what it writes, a fresh clone costing ~nothing where clones are cheap', async () => {
      const layerId = randomKey();
      const volumeId = await volumeWithFiles();
      await writeRandomFile(driver.volumePath(volumeId), 'more', 4 * MiB);
      await driver.snapshotVolume(volumeId, layerId);
      expect(await driver.sizeBytes('layer', layerId)).toBeGreaterThanOrEqual(5 * MiB);
      const cloneId = randomUUID();
      await driver.cloneLayer(layerId, cloneId);
      const fresh = await driver.sizeBytes('volume', cloneId);
      if (target.cheapClones) expect(fresh).toBeLessThan(MiB / 2);
      await writeRandomFile(driver.volumePath(cloneId), 'written', 8 * MiB);
      const grown = (await driver.sizeBytes('volume', cloneId)) - fresh;
      expect(grown).toBeGreaterThan(7.5 * MiB);
      expect(grown).toBeLessThan(9 * MiB);
      const capacity = await driver.capacity();
      expect(capacity.freeBytes).toBeLessThanOrEqual(capacity.totalBytes);
    });

    it('refuses, through the layer cache, to destroy a layer with live clones, and keeps it from eviction', async () => {
      const cache = createCache(pool, driver, 0);
      const source = await cache.createVolume({});
      await writeFile(join(source.path, 'PG_VERSION'), '18\n');
      const key = randomKey();
      const { layer } = await cache.createLayer({ key, volumeId: source.id, stepCount: 1, buildMs: 5 });
      await cache.destroyVolume(source.id);
      const clone = await cache.createVolume({ fromLayerKey: key });
      expect(await readFile(join(clone.path, 'PG_VERSION'), 'utf8')).toBe('18\n');
      await expect(cache.deleteLayer(key)).rejects.toMatchObject({
        code: 'SNAPSHOT_CACHE_LAYER_IN_USE',
        statusCode: 409,
      });
      expect((await cache.evict()).evicted).not.toContain(key);
      expect((await driver.list()).layers).toContain(layer.key);
      await cache.destroyVolume(clone.id);
      await cache.deleteLayer(key);
      expect((await driver.list()).layers).not.toContain(key);
      await expect(cache.getLayer(key)).rejects.toMatchObject({ code: 'SNAPSHOT_CACHE_LAYER_NOT_FOUND' });
    });

    it.skipIf(!target.smallFilesystem)(
      'answers SNAPSHOT_CACHE_DISK_FULL on a full filesystem and keeps no half-written layer',
      async () => {
        const cache = createCache(pool, driver);
        const volume = await cache.createVolume({});
        await writeFile(join(volume.path, 'PG_VERSION'), '18\n');
        await fillFilesystem(volume.path);
        const key = randomKey();
        await expect(cache.createLayer({ key, volumeId: volume.id, stepCount: 1, buildMs: 1 })).rejects.toMatchObject({
          code: 'SNAPSHOT_CACHE_DISK_FULL',
          statusCode: 507,
        });
        const rows = await pool.query('SELECT 1 FROM layers WHERE key = $1', [key]);
        expect(rows.rowCount).toBe(0);
        expect((await driver.list()).layers).not.toContain(key);
        expect((await readdir(join(driver.rootDir, 'layers'))).filter((name) => name.startsWith(key))).toEqual([]);
      },
    );
  });
}
