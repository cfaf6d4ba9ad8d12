/** Bounds of the warm instances layer holds ask for (THROWAWAY_WARM_MAX, THROWAWAY_WARM_PER_KEY_MAX). */
export interface LayerHoldSettings {
  /** Warm instances all held keys may ask env-manager for together: each costs an idle server's memory. */
  warmMax: number;
  /** Warm instances one key may get, however many holders ask and however popular it is. */
  warmPerKeyMax: number;
  /** Throwaway uses of a key per minute that earn it one more warm instance than its holders ask (a popular exercise). */
  usesPerExtra: number;
  /** How often held keys whose layer was missing are pinned again and the demand follows popularity. */
  sweepIntervalMs: number;
}

/** Defaults of THROWAWAY_WARM_MAX and THROWAWAY_WARM_PER_KEY_MAX; a popular key earns one more per 20 uses a minute. */
export const DEFAULT_LAYER_HOLD_SETTINGS: LayerHoldSettings = {
  warmMax: 8,
  warmPerKeyMax: 4,
  usesPerExtra: 20,
  sweepIntervalMs: 15_000,
};

/** One key's warm demand: what its holders ask, how much it was used lately. */
export interface KeyDemand {
  key: string;
  warm: number;
  uses: number;
}

/**
 * Shares the warm-instance budget among held keys: each key wants what its holders ask plus one per
 * `usesPerExtra` uses in the last minute, at most `warmPerKeyMax`; the budget is given one instance per key
 * per round, the most used keys first, so every held key gets its first instance before any gets a third.
 */
export function allocateWarm(demand: KeyDemand[], settings: LayerHoldSettings): Map<string, number> {
  const wanted = demand
    .map((d) => ({
      key: d.key,
      uses: d.uses,
      want: Math.min(settings.warmPerKeyMax, d.warm + Math.floor(d.uses / settings.usesPerExtra)),
    }))
    .sort((a, b) => b.uses - a.uses || a.key.localeCompare(b.key));
  const given = new Map<string, number>(wanted.map((w) => [w.key, 0]));
  let left = settings.warmMax;
  for (let round = 0; left > 0 && wanted.some((w) => w.want > round); round++) {
    for (const w of wanted) {
      if (left === 0) break;
      if (w.want > round) {
        given.set(w.key, round + 1);
        left--;
      }
    }
  }
  return given;
}
