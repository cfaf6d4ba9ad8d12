import type { Layer } from '../store/layers.js';

/** What scoring needs to know about a layer. */
export type ScoredLayer = Pick<
  Layer,
  'key' | 'sizeBytes' | 'hits' | 'lastUsedAt' | 'buildMs' | 'pinned' | 'liveClones'
>;

/** Scoring settings. */
export interface EvictionSettings {
  /** Total bytes of layers to stay under. */
  budgetBytes: number;
  /** A layer unused this long weighs half as much. */
  halfLifeMs: number;
  /** "Now", in epoch milliseconds. */
  nowMs: number;
  /** Keys never evicted in this run (a layer just created, say). */
  protectedKeys?: ReadonlySet<string>;
}

/**
 * Value per byte of keeping a layer: how often it was used (hits + 1) times
 * how recently (halving every `halfLifeMs` since its last use), times the
 * replay it saves (build time), divided by the bytes it occupies.
 */
export function layerScore(layer: ScoredLayer, nowMs: number, halfLifeMs: number): number {
  const ageMs = Math.max(0, nowMs - layer.lastUsedAt.getTime());
  const recency = 0.5 ** (ageMs / halfLifeMs);
  return ((layer.hits + 1) * recency * Math.max(layer.buildMs, 1)) / Math.max(layer.sizeBytes, 1);
}

/** Whether eviction may ever take the layer: never pinned ones, nor those live clones depend on. */
export function isEvictable(layer: ScoredLayer, protectedKeys?: ReadonlySet<string>): boolean {
  return !layer.pinned && layer.liveClones === 0 && !protectedKeys?.has(layer.key);
}

/** Sum of the layers' sizes. */
export function totalBytes(layers: readonly ScoredLayer[]): number {
  return layers.reduce((sum, layer) => sum + layer.sizeBytes, 0);
}

/**
 * Which layers to evict, lowest score first, until the total is within the
 * budget (or nothing evictable is left). Pure: the runner re-checks each
 * layer under its lock before deleting it.
 */
export function planEviction(layers: readonly ScoredLayer[], settings: EvictionSettings): string[] {
  let total = totalBytes(layers);
  if (total <= settings.budgetBytes) return [];
  const ranked = layers
    .filter((layer) => isEvictable(layer, settings.protectedKeys))
    .map((layer) => ({ layer, score: layerScore(layer, settings.nowMs, settings.halfLifeMs) }))
    .sort((a, b) => a.score - b.score || a.layer.key.localeCompare(b.layer.key));
  const evict: string[] = [];
  for (const { layer } of ranked) {
    if (total <= settings.budgetBytes) break;
    evict.push(layer.key);
    total -= layer.sizeBytes;
  }
  return evict;
}
