import { createHash } from 'node:crypto';
import { CANONICAL_FORMAT_VERSION } from './format.js';
import type { Chain } from './types.js';

/** What the state before the first step depends on. */
export interface ChainOptions {
  /** Server version that executes the chain, e.g. "18.4"; part of the base key. */
  engineVersion: string;
  /** Instance settings that can change results (e.g. TimeZone, lc_collate); part of the base key. */
  settings?: Record<string, string>;
  /**
   * Continue a chain: the key of the state the steps run on (an instance's
   * current key), instead of the base key. The chain's `baseKey` is then this key.
   */
  startKey?: string;
  /** Each step keeps its canonical text (`Step.canonical`), so the chain can be moved onto another start (rekeyChain). */
  keepCanonical?: boolean;
}

/**
 * K0: sha256 (hex) of the canonical format version, the engine version and the
 * settings sorted by name, as JSON.
 */
export function computeBaseKey(options: ChainOptions): string {
  const settings = Object.entries(options.settings ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const material = JSON.stringify({
    formatVersion: CANONICAL_FORMAT_VERSION,
    engineVersion: options.engineVersion,
    settings,
  });
  return createHash('sha256').update(material, 'utf8').digest('hex');
}

/**
 * K(i) = sha256(K(i-1), canonical(step i) [, COPY data]), each part
 * length-prefixed so that no two different inputs share a key.
 */
export function nextKey(previousKey: string, canonical: string, copyData?: string): string {
  const hash = createHash('sha256');
  hash.update(previousKey, 'utf8');
  hash.update(`\nsql:${Buffer.byteLength(canonical, 'utf8')}:`, 'utf8');
  hash.update(canonical, 'utf8');
  if (copyData !== undefined) {
    hash.update(`\ncopy:${Buffer.byteLength(copyData, 'utf8')}:`, 'utf8');
    hash.update(copyData, 'utf8');
  }
  return hash.digest('hex');
}

/** The chain of no steps: its base key is its final key. Needs no parser. */
export function emptyChain(options: ChainOptions): Chain {
  const baseKey = options.startKey ?? computeBaseKey(options);
  return { baseKey, steps: [], finalKey: baseKey, formatVersion: CANONICAL_FORMAT_VERSION };
}

/**
 * The same steps continued from `startKey` instead: only the keys change (a step's key depends on the key before
 * it and its own canonical text). Needs a chain planned with `keepCanonical`; hashing, no parser, so it is cheap
 * enough for the event loop where planning is not.
 */
export function rekeyChain(chain: Chain, startKey: string): Chain {
  let key = startKey;
  const steps = chain.steps.map((step) => {
    if (step.kind !== 'Echo') {
      if (step.canonical === undefined) throw new Error('rekeyChain needs a chain planned with keepCanonical');
      key = nextKey(key, step.canonical, step.copyData);
    }
    return { ...step, key };
  });
  return { ...chain, baseKey: startKey, steps, finalKey: key };
}
