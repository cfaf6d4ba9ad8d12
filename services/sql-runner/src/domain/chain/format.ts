/**
 * Version of the canonical form (canonical.ts). Part of every base key, so
 * changing canonicalisation gives new keys instead of serving a stale state.
 * Kept apart from canonical.ts so that keys can be computed without loading
 * the parser's WASM (the service's main thread never loads it: planning runs
 * in worker threads).
 */
export const CANONICAL_FORMAT_VERSION = 1;
