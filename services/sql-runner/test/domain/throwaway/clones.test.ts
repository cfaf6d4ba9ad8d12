import { createTestDatabase } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import type { EnvManagerClient, InstanceInfo } from '../../../src/clients/env-manager.js';
import { ThrowawayClones } from '../../../src/domain/throwaway/clones.js';

// The bounds alone: a reservation makes no instance, so no env-manager is needed to count slots. Waiting for
// slots a finished request's deletes still hold is shown through the routes (test/routes/explain.test.ts).
const noEnvManager = { envManager: undefined as unknown as EnvManagerClient };

describe('throwaway clone bounds', () => {
  it('gives a request as many slots as the account and the runner leave free, at least one', async () => {
    const clones = new ThrowawayClones(noEnvManager, { maxPerAccount: 3, maxTotal: 4 });
    const a = await clones.reserve('a', 5);
    expect(a.slots).toBe(3);
    const b = await clones.reserve('b', 5);
    expect(b.slots).toBe(1);
    expect(clones.inUse).toBe(4);
    await a.release();
    await a.release(); // twice gives back once
    expect(clones.inUse).toBe(1);
    expect((await clones.reserve('a', 2)).slots).toBe(2);
  });

  it('keeps counting the slots of a request released early while its other work still runs', async () => {
    const clones = new ThrowawayClones(noEnvManager, { maxPerAccount: 2, maxTotal: 2 });
    const request = await clones.reserve('a', 2);
    let finish: () => void = () => {};
    const running = request.inSlot(() => new Promise<void>((resolve) => (finish = resolve)));
    // A second entry fails at once, as an env-manager refusing a create would: the request's Promise.all
    // rejects and its finally releases the reservation while the first entry still holds its clone.
    const failed = request.inSlot(async () => {
      throw new Error('create refused');
    });
    await expect(Promise.all([running, failed])).rejects.toThrow('create refused');
    const released = request.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clones.inUse).toBe(2);
    await expect(clones.reserve('b', 1)).rejects.toMatchObject({ code: 'SQL_RUNNER_THROWAWAY_BUSY' });
    finish();
    await released;
    expect(clones.inUse).toBe(0);
    expect((await clones.reserve('b', 1)).slots).toBe(1);
  });

  it('refuses an account with every slot in use with 429, and a full runner with 503, each with retryAfterSeconds', async () => {
    const clones = new ThrowawayClones(noEnvManager, { maxPerAccount: 1, maxTotal: 2 });
    const held = await clones.reserve('a', 1);
    await expect(clones.reserve('a', 1)).rejects.toMatchObject({
      code: 'SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY',
      statusCode: 429,
      details: { retryAfterSeconds: 1 },
    });
    await clones.reserve('b', 1);
    await expect(clones.reserve('c', 1)).rejects.toMatchObject({ code: 'SQL_RUNNER_THROWAWAY_BUSY', statusCode: 503 });
    await held.release();
    expect((await clones.reserve('c', 1)).slots).toBe(1);
  });

  it("lets the next request start while the last one's clone is still being deleted, up to twice the bound of instances alive", async () => {
    // A real server stands in for the clone (the reservation connects to it); env-manager's delete is held open.
    const db = await createTestDatabase('clones');
    const url = new URL(db.url);
    // The runner connects as the sandbox's learner, who needs no password; this server asks one of everybody.
    const password = process.env.PGPASSWORD;
    process.env.PGPASSWORD = decodeURIComponent(url.password);
    const instance = {
      id: 'clone-1',
      host: url.hostname,
      port: Number(url.port),
      database: db.name,
      user: decodeURIComponent(url.username),
      admin: { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
      source: 'pool',
    } as unknown as InstanceInfo;
    let finishDelete: () => void = () => {};
    const deleting = new Promise<void>((resolve) => (finishDelete = resolve));
    const envManager = {
      createGathered: async () => instance,
      delete: () => deleting,
    } as unknown as EnvManagerClient;
    const clones = new ThrowawayClones({ envManager }, { maxPerAccount: 1, maxTotal: 4 });
    try {
      const first = await clones.reserve('a', 1);
      expect(
        await first.withClone('k'.repeat(64), 'r1', async ({ connection }) => {
          return (await connection.learner.query('SELECT 1 AS one')).rows[0].one;
        }),
      ).toBe(1);
      void first.release();
      // Its delete is in flight: the account's one slot in use is free again, and the clone still counts.
      const second = await clones.reserve('a', 1, 0);
      expect(second.slots).toBe(1);
      expect(clones.inUse).toBe(2);
      // Two alive (one in use, one being deleted) is the most an account with a bound of 1 gets.
      await expect(clones.reserve('a', 1, 0)).rejects.toMatchObject({ code: 'SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY' });
      finishDelete();
      await first.release();
      expect(clones.inUse).toBe(1);
      await second.release();
      expect(clones.inUse).toBe(0);
    } finally {
      finishDelete();
      if (password === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = password;
      await db.drop();
    }
  });

  it("waits deleteDelayMs after a clone's use before deleting it, counted as being deleted meanwhile", async () => {
    // A grader's clone (ADR 0044): its server is not stopped beside the attempt's other entries still running.
    const db = await createTestDatabase('clones_delay');
    const url = new URL(db.url);
    const password = process.env.PGPASSWORD;
    process.env.PGPASSWORD = decodeURIComponent(url.password);
    const instance = {
      id: 'clone-2',
      host: url.hostname,
      port: Number(url.port),
      database: db.name,
      user: decodeURIComponent(url.username),
      admin: { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
      source: 'pool',
    } as unknown as InstanceInfo;
    let deletedAt: number | undefined;
    const envManager = {
      createGathered: async () => instance,
      delete: async () => {
        deletedAt = performance.now();
      },
    } as unknown as EnvManagerClient;
    const clones = new ThrowawayClones({ envManager }, { maxPerAccount: 1, maxTotal: 4, deleteDelayMs: 300 });
    try {
      const first = await clones.reserve('a', 1);
      await first.withClone('k'.repeat(64), 'r1', async ({ connection }) => connection.learner.query('SELECT 1'));
      const usedAt = performance.now();
      void first.release();
      // The account's slot is free at once; the clone is still alive and counted.
      expect((await clones.reserve('a', 1, 0)).slots).toBe(1);
      expect(clones.inUse).toBe(2);
      expect(deletedAt).toBeUndefined();
      await first.release();
      expect(deletedAt).toBeDefined();
      expect((deletedAt as number) - usedAt).toBeGreaterThanOrEqual(250);
      expect(clones.inUse).toBe(1);
    } finally {
      if (password === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = password;
      await db.drop();
    }
  });
});
