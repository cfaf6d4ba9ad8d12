import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A fresh database on the test run's server, for one test file. */
export interface TestDatabase {
  name: string;
  /** Superuser URL of this database. */
  url: string;
  /** Superuser URL of the server's maintenance database. */
  serverUrl: string;
  drop(): Promise<void>;
}

/** URL of the test run's server (superuser, `postgres` database). */
export function testServerUrl(): string {
  return inject('taidonPg').url;
}

/** Creates an empty database named after `prefix` plus random letters. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    serverUrl,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
