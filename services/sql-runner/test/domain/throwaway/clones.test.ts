import { describe, expect, it } from 'vitest';
import type { EnvManagerClient } from '../../../src/clients/env-manager.js';
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
});
