import { describe, expect, it } from 'vitest';
import { DomainError } from '../src/errors.js';
import { type BatchOutcome, batchRefusalOf, errorOfBatchRefusal, TurnBatches } from '../src/turn-batches.js';

// Calls gathered by turn of the event loop into batches (ADR 0056): what is sent together, and how each call is
// answered.

describe('TurnBatches', () => {
  it('sends the calls of one key made in one turn as one batch, each answered with its own outcome', async () => {
    const sent: [string, number[]][] = [];
    const batches = new TurnBatches<number, number>(16, async (key, items) => {
      sent.push([key, items]);
      return items.map(
        (n): BatchOutcome<number> => (n < 0 ? { ok: false, error: new Error(`no ${n}`) } : { ok: true, value: n * 10 }),
      );
    });
    const a = [1, 2, -3].map((n) => batches.call('a', n));
    const b = batches.call('b', 4);
    const settled = await Promise.allSettled([...a, b]);
    expect(sent).toEqual([
      ['a', [1, 2, -3]],
      ['b', [4]],
    ]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      10,
      20,
      'no -3',
      40,
    ]);
    // A later turn is a batch of its own.
    await batches.call('a', 5);
    expect(sent.at(-1)).toEqual(['a', [5]]);
  });

  it('starts another batch past `max`, and a batch that fails rejects each of its calls', async () => {
    const sizes: number[] = [];
    const batches = new TurnBatches<number, number>(2, async (_key, items) => {
      sizes.push(items.length);
      if (items.includes(3)) throw new Error('the batch failed');
      return items.map((n) => ({ ok: true, value: n }));
    });
    const settled = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batches.call('k', n)));
    expect(sizes).toEqual([2, 2, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  });

  it('settles the refusals of a batch before its answers', async () => {
    const batches = new TurnBatches<number, number>(16, async (_key, items) =>
      items.map((n): BatchOutcome<number> => (n % 2 ? { ok: true, value: n } : { ok: false, error: n })),
    );
    const order: string[] = [];
    await Promise.allSettled(
      [1, 2, 3, 4].map((n) =>
        batches.call('k', n).then(
          () => order.push(`answered ${n}`),
          () => order.push(`refused ${n}`),
        ),
      ),
    );
    expect(order).toEqual(['refused 2', 'refused 4', 'answered 1', 'answered 3']);
  });

  it('carries a DomainError across a batch as its single route would: code, status, message, details', () => {
    const error = new DomainError('SOME_BUSY', 'Busy now.', { statusCode: 429, details: { retryAfterSeconds: 1 } });
    const refusal = batchRefusalOf(error);
    expect(refusal).toEqual({
      ok: false,
      statusCode: 429,
      code: 'SOME_BUSY',
      message: 'Busy now.',
      details: { retryAfterSeconds: 1 },
    });
    const rebuilt = errorOfBatchRefusal(refusal as NonNullable<typeof refusal>);
    expect([rebuilt.code, rebuilt.statusCode, rebuilt.message, rebuilt.details]).toEqual([
      'SOME_BUSY',
      429,
      'Busy now.',
      { retryAfterSeconds: 1 },
    ]);
    expect(batchRefusalOf(new Error('not a domain error'))).toBeUndefined();
  });
});
