import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/runtimes/throttle.js';

/** A holder that runs until released, recording when it got in. */
function holder(semaphore: Semaphore, name: string, order: string[], priority?: 'request' | 'background') {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = semaphore.run(async () => {
    order.push(name);
    await held;
    return name;
  }, priority);
  return { release, done };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('lets `limit` holders in and queues the rest in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => holder(semaphore, n, order));
    await tick();
    expect(order).toEqual(['a', 'b']);
    expect(semaphore.queued()).toBe(2);
    a?.release();
    await tick();
    expect(order).toEqual(['a', 'b', 'c']);
    b?.release();
    c?.release();
    d?.release();
    expect(await Promise.all([a?.done, b?.done, c?.done, d?.done])).toEqual(['a', 'b', 'c', 'd']);
    expect(semaphore.queued()).toBe(0);
  });

  it('serves queued requests before queued background work, whatever came first', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const first = holder(semaphore, 'first', order, 'background');
    const refill1 = holder(semaphore, 'refill1', order, 'background');
    const refill2 = holder(semaphore, 'refill2', order, 'background');
    const learner = holder(semaphore, 'learner', order, 'request');
    await tick();
    expect(semaphore.queued('background')).toBe(2);
    expect(semaphore.queued('request')).toBe(1);
    for (const h of [first, learner, refill1, refill2]) {
      h.release();
      await tick();
    }
    await Promise.all([first.done, learner.done, refill1.done, refill2.done]);
    expect(order).toEqual(['first', 'learner', 'refill1', 'refill2']);
  });

  it('does not let a newcomer pass the queue when a slot frees', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const a = holder(semaphore, 'a', order);
    const b = holder(semaphore, 'b', order);
    await tick();
    a.release();
    const c = holder(semaphore, 'c', order);
    b.release();
    await tick();
    c.release();
    await Promise.all([a.done, b.done, c.done]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('withdraws a waiting holder whose signal aborts; the slot goes to the next one', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const a = holder(semaphore, 'a', order);
    const gaveUp = new AbortController();
    const b = semaphore.run(async () => order.push('b'), 'request', gaveUp.signal);
    const c = holder(semaphore, 'c', order);
    await tick();
    gaveUp.abort(new Error('caller gave up'));
    await expect(b).rejects.toThrow('caller gave up');
    expect(semaphore.queued()).toBe(1);
    a.release();
    await tick();
    c.release();
    await Promise.all([a.done, c.done]);
    expect(order).toEqual(['a', 'c']);
    await expect(semaphore.run(async () => 1, 'request', gaveUp.signal)).rejects.toThrow('caller gave up');
  });

  it('fails waiting holders on close and refuses new ones', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const a = holder(semaphore, 'a', order);
    const b = holder(semaphore, 'b', order, 'background');
    await tick();
    semaphore.close();
    await expect(b.done).rejects.toThrow('shutting down');
    await expect(semaphore.run(async () => 1)).rejects.toThrow('shutting down');
    a.release();
    expect(await a.done).toBe('a');
    expect(order).toEqual(['a']);
  });
});
