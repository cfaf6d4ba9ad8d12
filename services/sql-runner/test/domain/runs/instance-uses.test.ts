import { describe, expect, it } from 'vitest';
import { type InstanceUse, InstanceUses } from '../../../src/domain/runs/instance-uses.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InstanceUses', () => {
  it('sends the uses of one interval in one call, each instance once with its last known key', async () => {
    const calls: InstanceUse[][] = [];
    const uses = new InstanceUses(async (batch) => calls.push(batch), 30);
    uses.note('a', 'k1');
    uses.note('b', null);
    uses.note('a', 'k2');
    uses.note('a', null);
    expect(calls).toEqual([]);
    await sleep(80);
    expect(calls).toEqual([
      [
        { id: 'a', currentKey: 'k2' },
        { id: 'b', currentKey: null },
      ],
    ]);
    uses.note('b', 'k3');
    await uses.flush();
    expect(calls.at(-1)).toEqual([{ id: 'b', currentKey: 'k3' }]);
    await uses.flush();
    expect(calls).toHaveLength(2);
  });

  it('keeps calls in order, so a slow earlier call never lands after a later key', async () => {
    const landed: string[] = [];
    let slow = true;
    const uses = new InstanceUses(async (batch) => {
      const key = batch[0]?.currentKey ?? '';
      if (slow) {
        slow = false;
        await sleep(50);
      }
      landed.push(key);
    }, 1000);
    uses.note('a', 'first');
    const one = uses.flush();
    uses.note('a', 'second');
    const two = uses.flush();
    await Promise.all([one, two]);
    expect(landed).toEqual(['first', 'second']);
  });

  it('goes on after a call that failed, and tells of the failure', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const uses = new InstanceUses(
      async (batch) => {
        if (batch[0]?.id === 'bad') throw new Error('env-manager is away');
        sent.push(batch[0]?.id ?? '');
      },
      1000,
      (error) => errors.push(error),
    );
    uses.note('bad', null);
    await uses.flush();
    uses.note('good', null);
    await uses.flush();
    expect(sent).toEqual(['good']);
    expect(errors).toHaveLength(1);
  });

  it('splits more instances than one call may carry', async () => {
    const sizes: number[] = [];
    const uses = new InstanceUses(async (batch) => sizes.push(batch.length), 1000);
    for (let i = 0; i < 2500; i++) uses.note(`i${i}`, null);
    await uses.flush();
    expect(sizes).toEqual([1000, 1000, 500]);
  });
});
