import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceInfo } from '../../../src/clients/env-manager.js';
import { SessionConnections } from '../../../src/domain/runs/connections.js';

describe("a session's admin connection on a real server", () => {
  let db: TestDatabase;
  let connections: SessionConnections;
  let instance: InstanceInfo;

  beforeAll(async () => {
    db = await createTestDatabase('runs_connections');
    const url = new URL(db.url);
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    instance = {
      id: 'instance-1',
      state: 'Running',
      host: url.hostname,
      port: Number(url.port),
      database: url.pathname.slice(1),
      user,
      admin: { user, password },
      layerKey: null,
      currentKey: null,
      source: 'clone',
      readyMs: 0,
    };
    connections = new SessionConnections();
  });
  afterAll(async () => {
    await connections?.closeAll();
    await db?.drop();
  });

  it('takes one user at a time (the disk guard and the type lookup at once), an error freeing the turn', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      // The learner's connection as a prepared one: the test server asks every login for a password.
      const learner = new pg.Client({ connectionString: db.url });
      await learner.connect();
      const session = await connections.open('session-1', instance, learner);
      const spans: [number, number][] = [];
      const sleep = (ms: number) =>
        session.withAdmin(async (admin) => {
          const started = performance.now();
          await admin.query(`SELECT pg_sleep(${ms / 1000})`);
          spans.push([started, performance.now()]);
        });
      const failing = session.withAdmin((admin) => admin.query('SELECT * FROM no_such_table'));
      const names = session.types.columns([
        { name: 'c', dataTypeID: 16384 + 1_000_000, dataTypeModifier: -1 } as never,
      ]);
      await Promise.all([sleep(150), expect(failing).rejects.toThrow(/no_such_table/), sleep(150), names]);
      expect(spans).toHaveLength(2);
      const [first, second] = spans.sort((a, b) => a[0] - b[0]) as [[number, number], [number, number]];
      expect(second[0]).toBeGreaterThanOrEqual(first[1]);
      // Let a deprecation warning, if one was emitted, reach the listener.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
