import { describe, expect, it } from 'vitest';
import { RunQuota, RunRateExceededError } from '../../../src/domain/runs/quota.js';

const quotas = { instances: 1, storageBytes: 1, runsPerMinute: 3, idleTtlSeconds: 60 };

function quotaAt(clock: { now: number }): RunQuota {
  const nowhere = { name: 'nowhere', baseUrl: 'http://127.0.0.1:9', serviceToken: 'x', timeoutMs: 100 };
  return new RunQuota({
    userProfile: nowhere,
    envManager: nowhere,
    pool: undefined as never, // the run-rate window never touches the database
    dropConnection: async () => {},
    isConnected: () => false,
    now: () => clock.now,
  });
}

describe('run-rate window', () => {
  it('admits runsPerMinute runs in any minute and says when the next may start', () => {
    const clock = { now: 1_000_000 };
    const quota = quotaAt(clock);
    for (const at of [0, 10_000, 20_000]) {
      clock.now = 1_000_000 + at;
      quota.admitRun('a', quotas);
    }
    clock.now = 1_000_000 + 30_000;
    const refused = (() => {
      try {
        quota.admitRun('a', quotas);
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(RunRateExceededError);
    expect((refused as RunRateExceededError).retryAfterSeconds).toBe(30);
    expect((refused as RunRateExceededError).statusCode).toBe(429);
    // Another account has its own window; a refused attempt is not counted.
    quota.admitRun('b', quotas);
    expect(quota.runsLastMinute('a')).toBe(3);
    clock.now = 1_000_000 + 60_001;
    quota.admitRun('a', quotas);
    expect(quota.runsLastMinute('a')).toBe(3);
  });

  it('refuses every run of an account whose rate is 0', () => {
    const quota = quotaAt({ now: 5 });
    expect(() => quota.admitRun('a', { ...quotas, runsPerMinute: 0 })).toThrow(RunRateExceededError);
  });
});

describe('room for an instance', () => {
  const quota = quotaAt({ now: 1_000_000 });
  const limits = { ...quotas, instances: 2 };

  it('does not ask env-manager when the account’s other sessions point at fewer instances than the quota', async () => {
    // env-manager is nowhere: any call would fail.
    await expect(
      quota.makeRoomForInstance('owner', limits, { id: 's', instanceId: null, otherInstances: 1 }),
    ).resolves.toBeUndefined();
  });

  it('asks env-manager at the quota, and when the count is unknown', async () => {
    for (const otherInstances of [2, 5, undefined]) {
      await expect(
        quota.makeRoomForInstance('owner', limits, { id: 's', instanceId: null, otherInstances }),
      ).rejects.toThrow();
    }
  });
});
