import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgresServer } from '../pg-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The one real PostgreSQL server of this test run. */
    taidonPg: { url: string; version: string; port: number };
  }
}

/**
 * Vitest global setup: one real PostgreSQL server for the whole test run, from
 * the binaries that install with the project; each test file makes its own
 * database on it (createTestDatabase). Removed with its files at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const rootDir = await mkdtemp(join(tmpdir(), 'taidon-test-pg-'));
  const server = await startPostgresServer({
    rootDir,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  project.provide('taidonPg', { url: server.url, version: server.version, port: server.port });
  return async () => {
    await server.stop();
    await rm(rootDir, { recursive: true, force: true });
  };
}
