import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { DomainError } from '@taidon/kit';
import type { Counter } from 'prom-client';
import { CHAIN_ERROR_CODES } from '../domain/chain/errors.js';
import { CANONICAL_FORMAT_VERSION } from '../domain/chain/format.js';
import type { Chain, ChainOptions, PlanLimits, SourceFile } from '../domain/chain/index.js';
import { computeBaseKey, rekeyChain } from '../domain/chain/keys.js';
import { PlannerBusyError } from './errors.js';
import type { Planner } from './pool.js';

/** How the cache is bounded (PLAN_CACHE_*), and what it counts. */
export interface PlanCacheOptions {
  /** Plans kept; 0 turns the cache off (every plan is a job of the pool, as before it existed). */
  maxEntries: number;
  /** Estimated memory of the plans kept, all together. */
  maxBytes: number;
  /** The pool's limits: a plan (or its refusal) holds only under the limits it was made with. */
  limits: PlanLimits;
  /** Lookups by result: hit, miss, shared (joined a plan in progress), skipped (text too large to key). */
  lookups?: Counter<'result'>;
}

/**
 * Texts longer than this (all files together, in UTF-16 code units) go to the pool without a lookup: keying
 * hashes the whole text on the event loop (~1 ms per MiB), and such plans are a project's own scripts, not
 * the same exercise sent by a whole class.
 */
export const MAX_CACHED_TEXT_CHARS = 1024 * 1024;

/** Within the cache the parser never changes, but a key says what made the plan, as the state keys do. */
const PARSER_VERSION = (createRequire(import.meta.url)('libpg-query/package.json') as { version: string }).version;

/** Codes that depend on the text and the limits alone; the others (time, memory, a parser that gave up) may not. */
const DETERMINISTIC_CODES = new Set<string>(
  CHAIN_ERROR_CODES.map((entry) => entry.code).filter((code) => code !== 'SQL_RUNNER_STATEMENT_TOO_COMPLEX'),
);

type Outcome = { chain: Chain } | { error: { code: string; message: string; statusCode: number; details: object } };

interface Entry {
  outcome: Outcome;
  bytes: number;
}

/**
 * Plans of identical texts, made once: every learner of an exercise sends the same tail, and at a class's
 * arrival each of them used to queue the same job in the planner's pool. A plan depends only on the files
 * (paths, text, run flags), the chain options, the limits and the parser, never on who asks, so it is kept
 * under a hash of exactly those, in a bounded LRU, and handed to anyone who sends the same text. A request
 * for a text already being planned waits for that job instead of queuing another (single flight). Errors
 * are kept only when the text alone decides them (a syntax error, an include not found, a planning limit
 * other than time and memory); a timeout, a worker out of memory, a parser that gave up or a busy pool is
 * answered to the requests waiting at that moment and never kept (ADR 0043).
 */
export class PlanCache implements Planner {
  /** In order of last use, least recent first (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Promise<Chain>>();
  private heldBytes = 0;

  constructor(
    private readonly planner: Planner,
    private readonly options: PlanCacheOptions,
  ) {}

  plan(files: SourceFile[], options: ChainOptions, owner?: string): Promise<Chain> {
    if (files.length === 0 || this.options.maxEntries === 0) return this.planner.plan(files, options, owner);
    const chars = files.reduce((sum, file) => sum + file.sql.length + file.path.length, 0);
    if (chars > MAX_CACHED_TEXT_CHARS) {
      this.options.lookups?.inc({ result: 'skipped' });
      return this.planner.plan(files, options, owner);
    }
    // A head continues a session's key: planned from the base state and its keys moved there (hashing, no
    // parser), so the same text from every session is one entry.
    const startKey = options.keepCanonical ? options.startKey : undefined;
    const { startKey: _moved, ...fromBase } = options;
    const keyed = startKey === undefined ? options : fromBase;
    const moved = (chain: Chain) => (startKey === undefined ? chain : rekeyChain(chain, startKey));
    return this.lookup(files, keyed, owner).then(moved);
  }

  /** Entries and their estimated bytes (for tests and diagnostics). */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.heldBytes };
  }

  private lookup(files: SourceFile[], options: ChainOptions, owner: string | undefined): Promise<Chain> {
    const key = planKey(files, options, this.options.limits);
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.options.lookups?.inc({ result: 'hit' });
      return 'chain' in entry.outcome
        ? Promise.resolve(entry.outcome.chain)
        : Promise.reject(copy(entry.outcome.error));
    }
    const flight = this.flights.get(key);
    if (flight) {
      this.options.lookups?.inc({ result: 'shared' });
      // The first sender's refusal (its account's queue, a full pool) is its own: this request asks for itself.
      return flight.catch((error: unknown) => {
        if (error instanceof PlannerBusyError) return this.lookup(files, options, owner);
        throw error instanceof DomainError ? copy(error) : error;
      });
    }
    this.options.lookups?.inc({ result: 'miss' });
    const planned = this.planner
      .plan(files, options, owner)
      .then(
        (chain) => {
          const kept = freeze(chain);
          this.remember(key, { chain: kept }, chainBytes(kept));
          return kept;
        },
        (error: unknown) => {
          if (isDeterministic(error)) {
            const { code, message, statusCode, details } = error;
            this.remember(key, { error: { code, message, statusCode, details } }, 512 + 2 * message.length);
          }
          throw error;
        },
      )
      .finally(() => this.flights.delete(key));
    this.flights.set(key, planned);
    return planned;
  }

  private remember(key: string, outcome: Outcome, bytes: number): void {
    // One plan may not take more than an eighth of the budget: a single large text never empties the cache.
    if (bytes > this.options.maxBytes / 8) return;
    const replaced = this.entries.get(key);
    if (replaced) {
      this.entries.delete(key);
      this.heldBytes -= replaced.bytes;
    }
    this.entries.set(key, { outcome, bytes });
    this.heldBytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.heldBytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.heldBytes -= entry.bytes;
    }
  }
}

/**
 * sha256 of what a plan depends on, each part length-prefixed. Text is hashed as UTF-16 so that every string
 * keys as itself: as UTF-8 an unpaired surrogate (refused by the planner) would hash like U+FFFD (accepted).
 */
export function planKey(files: SourceFile[], options: ChainOptions, limits: PlanLimits): string {
  const hash = createHash('sha256');
  const part = (name: string, text: string) => {
    hash.update(`\n${name}:${text.length}:`, 'utf16le');
    hash.update(text, 'utf16le');
  };
  part('format', String(CANONICAL_FORMAT_VERSION));
  part('parser', PARSER_VERSION);
  // The base key covers the engine version and the settings, sorted.
  part('start', options.startKey ?? computeBaseKey(options));
  part('canonical', String(options.keepCanonical === true));
  part('limits', JSON.stringify(limits));
  for (const file of files) {
    part('path', file.path);
    part('run', String(file.run !== false));
    part('sql', file.sql);
  }
  return hash.digest('hex');
}

function isDeterministic(error: unknown): error is DomainError {
  if (!(error instanceof DomainError) || !DETERMINISTIC_CODES.has(error.code)) return false;
  const limit = error.details.limit;
  return limit !== 'timeMs' && limit !== 'memoryMb';
}

/** A fresh error for each request: one instance is never answered twice. */
function copy(error: { code: string; message: string; statusCode: number; details: object }): DomainError {
  return new DomainError(error.code, error.message, { statusCode: error.statusCode, details: { ...error.details } });
}

/** A kept plan is shared by every request that gets it: nobody may change it under the others. */
function freeze(chain: Chain): Chain {
  for (const step of chain.steps) Object.freeze(step);
  Object.freeze(chain.steps);
  return Object.freeze(chain);
}

/**
 * Rough heap cost of a plan: its strings (two bytes a character) and ~300 bytes of object, keys and
 * numbers per step. The plan arrived from a worker, so its strings hold nothing of the request's body.
 */
function chainBytes(chain: Chain): number {
  let bytes = 512;
  for (const step of chain.steps) {
    const chars =
      step.sql.length +
      step.path.length +
      step.kind.length +
      (step.canonical?.length ?? 0) +
      (step.copyData?.length ?? 0) +
      (step.notice?.length ?? 0);
    bytes += 320 + 2 * chars;
  }
  return bytes;
}
