import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgresServer } from '../src/pg-server.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startPostgresServer', () => {
  it('creates a cluster once, keeps its data and password across restarts, and stops its process', async () => {
    const rootDir = await mkdtemp(join(tmpdir(), 'taidon-pg-'));
    try {
      const first = await startPostgresServer({ rootDir });
      const pid = Number((await readFile(join(first.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      expect(alive(pid)).toBe(true);
      const client = new pg.Client({ connectionString: first.url });
      await client.connect();
      const { rows } = await client.query('SELECT current_setting($1) AS listen, current_user AS who', [
        'listen_addresses',
      ]);
      expect(rows[0]).toEqual({ listen: '127.0.0.1', who: 'postgres' });
      await client.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
      await client.end();
      expect(((await stat(join(rootDir, 'superuser.password'))).mode & 0o777).toString(8)).toBe('600');
      await first.stop();
      expect(alive(pid)).toBe(false);
      expect(existsSync(join(first.dataDir, 'postmaster.pid'))).toBe(false);

      const second = await startPostgresServer({ rootDir });
      expect(second.url.split('@')[0]).toBe(first.url.split('@')[0]);
      const again = new pg.Client({ connectionString: second.url });
      await again.connect();
      expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      await again.end();
      await second.stop();
    } finally {
      await rm(rootDir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong password: the cluster is not open to anyone on loopback', async () => {
    const rootDir = await mkdtemp(join(tmpdir(), 'taidon-pg-'));
    const server = await startPostgresServer({ rootDir });
    try {
      const url = new URL(server.url);
      url.password = 'wrong';
      const client = new pg.Client({ connectionString: url.toString() });
      await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await server.stop();
      await rm(rootDir, { recursive: true, force: true });
    }
  });
});
