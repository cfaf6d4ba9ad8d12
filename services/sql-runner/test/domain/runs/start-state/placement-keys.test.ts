import { describe, expect, it } from 'vitest';
import { PLACEMENT_KEYS_MAX, placementKeys } from '../../../../src/domain/runs/start-state/from-layer.js';

const path = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe('the keys a create sends for placement', () => {
  it('sends the whole path of a short chain, base first, deepest last', () => {
    expect(placementKeys(path(3), 1)).toEqual(['k0', 'k1', 'k2']);
    expect(placementKeys(path(3), -1)).toEqual(['k0', 'k1', 'k2']);
  });

  it('sends the deepest keys of a long chain when no layer was found', () => {
    const keys = placementKeys(path(100), -1);
    expect(keys).toHaveLength(PLACEMENT_KEYS_MAX);
    expect(keys[0]).toBe('k36');
    expect(keys.at(-1)).toBe('k99');
  });

  it('keeps the layer found in a long chain among the keys, with the deeper ones after it', () => {
    const keys = placementKeys(path(200), 10);
    expect(keys).toHaveLength(PLACEMENT_KEYS_MAX);
    expect(keys[0]).toBe('k10');
    expect(keys.at(-1)).toBe('k73');
    expect(placementKeys(path(100), 90)[0]).toBe('k36');
  });
});
