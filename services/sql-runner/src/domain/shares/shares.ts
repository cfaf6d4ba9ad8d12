import { randomBytes } from 'node:crypto';
import {
  type CreatedShare,
  type PlanInput,
  type RunTail,
  SHARE_ERROR_CODES,
  SHARE_PAGE_PREFIX,
  SHARE_PREVIEW_MAX_CHARS,
  SHARE_RESULTS_MAX_CHARS,
  type SharedResults,
  type SharedState,
  type SharePreview,
  type ShareSummary,
  shareTitleOf,
} from '@taidon/contracts';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import type { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import { SqlRunnerError } from '../../errors.js';
import {
  deleteDeadShares,
  findLiveShare,
  findLiveShareHead,
  findLiveSharePin,
  insertShare,
  listLiveShares,
  lockShareScope,
  revokeShare,
  type ShareRow,
  shareUsage,
} from '../../store/shares.js';
import type { Chain, ChainOptions, SourceFile } from '../chain/index.js';
import { sourceFiles } from '../plan.js';
import type { ProjectTails } from '../projects/project-tails.js';
import { SharePins } from './pins.js';

/** Bounds of share links, from sql-runner's SHARE_* configuration. */
export interface ShareSettings {
  /** How long a link lives after it is made. */
  ttlSeconds: number;
  /** Live links one registered account may hold. */
  maxPerAccount: number;
  /** Live links one anonymous account may hold. */
  maxPerAnonymous: number;
  /** Characters of tails and heads one account's live links may hold together. */
  maxCharsPerAccount: number;
  /** Links one account may make per minute (revoked ones count). */
  createPerMinute: number;
  /** How often expired links are unpinned and dead ones deleted; 0 runs no sweep (tests call sweep()). */
  sweepIntervalMs: number;
}

/** Defaults of ShareSettings, as sql-runner's configuration declares them. */
export const DEFAULT_SHARE_SETTINGS: ShareSettings = {
  ttlSeconds: 30 * 86_400,
  maxPerAccount: 100,
  maxPerAnonymous: 10,
  maxCharsPerAccount: 64 * 1024 * 1024,
  createPerMinute: 10,
  sweepIntervalMs: 60_000,
};

/** How long a dead link's row stays (the creation rate counts it) before the sweep deletes it. */
const DEAD_KEPT_SECONDS = 3600;

/** What shares need from the service: its pool, the cache that pins layers, and planning (for the tail's key). */
export interface ShareDeps {
  pool: pg.Pool;
  snapshotCache: SnapshotCacheClient;
  /** Plans a chain on behalf of `owner`, in the planner's workers. */
  plan(files: SourceFile[], options: ChainOptions, owner?: string): Promise<Chain>;
  chainOptions: ChainOptions;
  /** Reads project tails (`{ project }`) from vcs-sync. */
  projects: ProjectTails;
  settings: ShareSettings;
  /** Told of a sweep pass that failed (it is tried again at the next interval). */
  onSweepError?(error: unknown): void;
}

/** The refusal of a link's creation over the account's rate; the route sends Retry-After. */
export class ShareRateExceededError extends SqlRunnerError {
  constructor(
    limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      SHARE_ERROR_CODES.rateExceeded,
      `At most ${limit} share links per minute; try again in ${retryAfterSeconds} s.`,
      {
        details: { sharesPerMinute: limit, retryAfterSeconds },
      },
    );
  }
}

const notFound = () =>
  new SqlRunnerError(SHARE_ERROR_CODES.notFound, 'No share link has this id (or it was revoked, or it expired).');

/** A new link id: 128 random bits, base64url (22 characters, URL-safe, never derived from anything). */
export const newShareId = (): string => randomBytes(16).toString('base64url');

const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

const urlOf = (id: string) => `${SHARE_PAGE_PREFIX}${id}`;

/**
 * Share links (ADR 0027): a tail and a head under an unguessable id, whose
 * tail's layer is pinned while the link lives. Anyone holding the id reads
 * it; only its owner lists and revokes it; nothing answered names the owner.
 */
export class Shares {
  readonly pins: SharePins;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly deps: ShareDeps) {
    this.pins = new SharePins(deps.pool, deps.snapshotCache);
  }

  /** The live link `id`, or a 404 (a malformed id is as unknown as any other). */
  private async live(id: string): Promise<ShareRow> {
    const share = SHARE_ID.test(id) ? await findLiveShare(this.deps.pool, id) : undefined;
    if (!share) throw notFound();
    return share;
  }

  /**
   * The given tail resolved to what runs, for `ownerId`: a share's tail is
   * replaced by its own, a project's by its scripts (read for the owner, so
   * another account's project is a 404); SQL and files are as given.
   */
  async resolveTail(tail: RunTail | undefined, ownerId: string): Promise<PlanInput | undefined> {
    if (!tail) return undefined;
    if ('share' in tail) return (await this.live(tail.share)).tail ?? undefined;
    if ('project' in tail) return this.deps.projects.resolve(tail, ownerId);
    return tail;
  }

  /** Makes a link of `tail` and `head` for `ownerId`, within the account's caps and rate. */
  async create(
    ownerId: string,
    role: string,
    input: { tail?: RunTail | undefined; head: string; results?: SharedResults | undefined },
    requestId?: string,
  ): Promise<CreatedShare> {
    // Results only when the owner chose to include them, bounded as a look at what the query gave.
    const results = input.results ?? null;
    const resultsChars = results === null ? 0 : JSON.stringify(results).length;
    if (resultsChars > SHARE_RESULTS_MAX_CHARS) {
      throw new SqlRunnerError(
        SHARE_ERROR_CODES.resultsTooLarge,
        `The results take ${resultsChars} characters; a link carries at most ${SHARE_RESULTS_MAX_CHARS}.`,
        { details: { limit: SHARE_RESULTS_MAX_CHARS, wouldBe: resultsChars } },
      );
    }
    // A project's tail is kept as its files were when the link was made.
    const tail = (await this.resolveTail(input.tail, ownerId)) ?? null;
    const files = tail ? sourceFiles(tail) : [];
    const sizeChars =
      input.head.length + resultsChars + files.reduce((sum, file) => sum + file.sql.length + file.path.length, 0);
    // An account at its caps is refused before its tail costs a plan; the caps are checked again under the lock.
    this.checkCaps(await shareUsage(this.deps.pool, ownerId), role, sizeChars);
    // The key a run of this tail starts from: the tail is planned (and so checked) as a run's would be.
    const chain = await this.deps.plan(files, this.deps.chainOptions, ownerId);
    const stateKey = chain.finalKey;
    const { settings } = this.deps;
    const share = await withTransaction(this.deps.pool, async (client) => {
      await lockShareScope(client, 'owner', ownerId);
      this.checkCaps(await shareUsage(client, ownerId), role, sizeChars);
      return insertShare(
        client,
        { id: newShareId(), ownerId, tail, head: input.head, stateKey, results, sizeChars },
        settings.ttlSeconds,
      );
    });
    // A layer that does not exist yet is built by the link's first run, and pinned then.
    await this.pins.hold(stateKey, requestId).catch(() => false);
    return { id: share.id, url: urlOf(share.id), expiresAt: share.expiresAt.toISOString() };
  }

  /** Refuses a new link of `sizeChars` to an account that made too many this minute or holds too much. */
  private checkCaps(usage: Awaited<ReturnType<typeof shareUsage>>, role: string, sizeChars: number): void {
    const { settings } = this.deps;
    if (usage.lastMinute >= settings.createPerMinute) {
      const waitMs = (usage.oldestInMinuteMs ?? Date.now()) + 60_000 - Date.now();
      throw new ShareRateExceededError(settings.createPerMinute, Math.max(1, Math.ceil(waitMs / 1000)));
    }
    const maxLinks = role === 'anonymous' ? settings.maxPerAnonymous : settings.maxPerAccount;
    if (usage.live >= maxLinks || usage.liveChars + sizeChars > settings.maxCharsPerAccount) {
      throw new SqlRunnerError(
        SHARE_ERROR_CODES.limitExceeded,
        `This account may hold ${maxLinks} share link(s) of at most ${settings.maxCharsPerAccount} characters together; revoke one first.`,
        { details: { shares: maxLinks, live: usage.live, maxChars: settings.maxCharsPerAccount } },
      );
    }
  }

  /** What anyone holding the link sees: the tail, the head and the key; never the owner. */
  async open(id: string): Promise<SharedState> {
    const share = await this.live(id);
    return {
      tail: share.tail,
      head: share.head,
      key: share.stateKey,
      expiresAt: share.expiresAt.toISOString(),
      ...(share.results ? { results: share.results } : {}),
    };
  }

  /** The start of a live link's head, for a page's preview: unknown, revoked and expired links alike are not found. */
  async preview(id: string): Promise<SharePreview> {
    const head = SHARE_ID.test(id) ? await findLiveShareHead(this.deps.pool, id, SHARE_PREVIEW_MAX_CHARS) : undefined;
    if (head === undefined) throw notFound();
    return { head };
  }

  /** The account's live links, newest first. */
  async list(ownerId: string): Promise<ShareSummary[]> {
    return (await listLiveShares(this.deps.pool, ownerId, SHARE_PREVIEW_MAX_CHARS)).map((share) => ({
      id: share.id,
      url: urlOf(share.id),
      key: share.stateKey,
      title: shareTitleOf(share.head),
      createdAt: share.createdAt.toISOString(),
      expiresAt: share.expiresAt.toISOString(),
      pinned: share.pinned,
    }));
  }

  /** Revokes the account's link `id` (another account's is answered as unknown) and lets go of its pin. */
  async revoke(ownerId: string, id: string, requestId?: string): Promise<void> {
    const stateKey = SHARE_ID.test(id) ? await revokeShare(this.deps.pool, id, ownerId) : undefined;
    if (!stateKey) throw notFound();
    // The revoke stands even if snapshot-cache is away: the sweep unpins what a dead link still holds.
    await this.pins.release(stateKey, requestId).catch(() => {});
  }

  /** After a run of link `id`: its layer exists now (the run took it at the tail's end), so it is pinned. */
  async afterRun(id: string, requestId?: string): Promise<void> {
    const share = SHARE_ID.test(id) ? await findLiveSharePin(this.deps.pool, id) : undefined;
    if (share && !share.pinned) await this.pins.hold(share.stateKey, requestId);
  }

  /** One sweep: expired links unpinned, layers of new links pinned, long-dead rows deleted. */
  async sweep(): Promise<{ released: number; held: number; deleted: number }> {
    const pinned = await this.pins.sweep();
    return { ...pinned, deleted: await deleteDeadShares(this.deps.pool, DEAD_KEPT_SECONDS) };
  }

  /** Starts the background sweep every `sweepIntervalMs` (none when 0). */
  start(): void {
    const every = this.deps.settings.sweepIntervalMs;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.deps.onSweepError?.(error))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, every);
    this.timer.unref();
  }

  /** Stops the sweep, waiting for a pass in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}
