import { describe, expect, it } from 'vitest';
import { allocateWarm, DEFAULT_LAYER_HOLD_SETTINGS } from '../../../src/domain/holds/layer-holds.js';

const key = (c: string) => c.repeat(64);

describe('allocateWarm', () => {
  it('gives every held key what its holders ask when the budget allows', () => {
    const given = allocateWarm(
      [
        { key: key('a'), warm: 1, uses: 0 },
        { key: key('b'), warm: 2, uses: 0 },
      ],
      DEFAULT_LAYER_HOLD_SETTINGS,
    );
    expect(Object.fromEntries(given)).toEqual({ [key('a')]: 1, [key('b')]: 2 });
  });

  it('shares a budget too small in rounds, the most used keys first, so every key gets one before any gets two', () => {
    const settings = { ...DEFAULT_LAYER_HOLD_SETTINGS, warmMax: 4 };
    const given = allocateWarm(
      [
        { key: key('a'), warm: 2, uses: 0 },
        { key: key('b'), warm: 2, uses: 5 },
        { key: key('c'), warm: 2, uses: 1 },
      ],
      settings,
    );
    expect(Object.fromEntries(given)).toEqual({ [key('a')]: 1, [key('b')]: 2, [key('c')]: 1 });
    expect([...given.values()].reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('gives a popular key one more per usesPerExtra uses a minute, never past the per-key bound', () => {
    const given = allocateWarm(
      [
        { key: key('a'), warm: 1, uses: 45 },
        { key: key('b'), warm: 1, uses: 500 },
        { key: key('c'), warm: 1, uses: 3 },
      ],
      { ...DEFAULT_LAYER_HOLD_SETTINGS, warmMax: 100, warmPerKeyMax: 4, usesPerExtra: 20 },
    );
    expect(Object.fromEntries(given)).toEqual({ [key('a')]: 3, [key('b')]: 4, [key('c')]: 1 });
  });

  it('asks nothing when the budget is 0', () => {
    const given = allocateWarm([{ key: key('a'), warm: 3, uses: 100 }], { ...DEFAULT_LAYER_HOLD_SETTINGS, warmMax: 0 });
    expect(given.get(key('a'))).toBe(0);
  });
});
