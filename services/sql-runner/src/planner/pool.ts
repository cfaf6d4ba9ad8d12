import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DomainError, UnavailableError } from '@taidon/kit';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { ChainLimitError } from '../domain/chain/errors.js';
import type { Chain, ChainOptions, PlanLimits, SourceFile } from '../domain/chain/index.js';
import { emptyChain } from '../domain/chain/keys.js';
import { PlannerBusyError } from './errors.js';
import type { PlanJobMessage, PlannerReply } from './protocol.js';

/** What routes and runs need to plan a chain; `owner` is the account asking, for fairness between accounts. */
export interface Planner {
  plan(files: SourceFile[], options: ChainOptions, owner?: string): Promise<Chain>;
}

/** How the pool is sized and bounded (the PLAN_* configuration). */
export interface PlannerPoolOptions {
  /** Worker threads planning at once. */
  workers: number;
  /** Time one job may take in its worker before the worker is stopped. */
  timeoutMs: number;
  /** Jobs waiting for a worker, from all accounts. */
  queueMax: number;
  /** Jobs of one account waiting or being planned. */
  queuePerAccount: number;
  /** Characters of SQL held by waiting and running jobs, all accounts together; past it a plan is refused 503. */
  queueMaxChars: number;
  /** V8 old-generation heap of one worker; past it the worker dies, not the process. */
  workerMemoryMb: number;
  limits: PlanLimits;
  logger: Logger;
  /** Counts the plans asked of the workers by what became of them (a chain of no files asks none). */
  jobs?: Counter<'outcome'>;
}

/**
 * A worker whose memory outside the JS heap passed this is replaced after its
 * job: the parser's WASM heap grows for a big statement (up to 1 GiB) and
 * never shrinks. A fresh worker holds ~140 MB there.
 */
const RECYCLE_EXTERNAL_BYTES = 512 * 1024 * 1024;

/** Seconds a refused client is told to wait: one job of a loaded pool usually takes less. */
const RETRY_AFTER_SECONDS = 1;

/**
 * A job that holds its worker longer than this marks its account slow for
 * SLOW_ACCOUNT_MS: a learner's plans take milliseconds, a pathological one
 * seconds. Jobs of slow accounts run only on all workers but one, and after
 * everyone else's, so however many slow plans arrive one worker stays free
 * for the plans of other learners (ADR 0021).
 */
const SLOW_JOB_MS = 1_000;
const SLOW_ACCOUNT_MS = 60_000;

/** The compiled worker; under the test runner (sources) it is the built one next to them. */
function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? here.replace(/\/src\/planner\/pool\.ts$/, '/dist/planner/worker.js')
    : here.replace(/pool\.js$/, 'worker.js');
}

interface Job {
  id: number;
  files: SourceFile[];
  /** Characters of SQL in `files`, counted against queueMaxChars while the job waits or runs. */
  chars: number;
  options: ChainOptions;
  owner: string | undefined;
  resolve: (chain: Chain) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
  /** The job's account turned out slow while it ran: it counts against the slow lane. */
  slow?: boolean;
  slowTimer?: NodeJS.Timeout;
  /** Why the worker was stopped or died, for the job it held. */
  stopped?: 'timeMs' | 'retired';
  failure?: Error;
  stderrBytes: number;
}

/**
 * Plans chains in worker threads, so that CPU work on user text never holds
 * the event loop that answers everyone's requests. Each job has a time budget
 * (its worker is stopped and replaced past it), each worker a heap limit, the
 * queue a bound, and each account at most one job planning at a time, so a
 * pathological plan costs its sender time and not anyone else's (ADR 0021).
 */
export class PlannerPool implements Planner {
  private readonly path = workerPath();
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  /** Jobs of each account waiting or planning. */
  private readonly pending = new Map<string, number>();
  /** Accounts with a job planning now. */
  private readonly planning = new Set<string>();
  /** Accounts whose plans held a worker past SLOW_JOB_MS, and until when they count as slow. */
  private readonly slowUntil = new Map<string, number>();
  /** Characters of SQL held by waiting and running jobs. */
  private heldChars = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PlannerPoolOptions) {
    if (!existsSync(this.path)) throw new Error(`the planner worker ${this.path} is not built (run npx tsc -b)`);
  }

  plan(files: SourceFile[], options: ChainOptions, owner?: string): Promise<Chain> {
    if (files.length === 0) return Promise.resolve(emptyChain(options));
    if (this.closed) return Promise.reject(new UnavailableError('UNAVAILABLE', 'The service is shutting down.'));
    if (owner !== undefined && (this.pending.get(owner) ?? 0) >= this.options.queuePerAccount) {
      const message = `This account already has ${this.options.queuePerAccount} plans in progress; try again in a moment.`;
      this.options.jobs?.inc({ outcome: 'account-busy' });
      return Promise.reject(new PlannerBusyError('SQL_RUNNER_PLANNER_ACCOUNT_BUSY', message, RETRY_AFTER_SECONDS));
    }
    const chars = files.reduce((sum, file) => sum + file.sql.length, 0);
    // An empty pool takes any one plan the body limits allow, however large; a busy one only up to its share.
    const overChars = this.heldChars > 0 && this.heldChars + chars > this.options.queueMaxChars;
    if (this.queue.length >= this.options.queueMax || overChars) {
      const message = 'Every planner is busy and the queue is full; try again in a moment.';
      this.options.jobs?.inc({ outcome: 'busy' });
      return Promise.reject(new PlannerBusyError('SQL_RUNNER_PLANNER_BUSY', message, RETRY_AFTER_SECONDS));
    }
    this.heldChars += chars;
    this.options.jobs?.inc({ outcome: 'queued' });
    return new Promise<Chain>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, files, chars, options, owner, resolve, reject });
      if (owner !== undefined) this.pending.set(owner, (this.pending.get(owner) ?? 0) + 1);
      this.dispatch();
    });
  }

  /** Thread ids of the live workers (for tests and diagnostics). */
  threads(): number[] {
    return [...this.slots].map((slot) => slot.worker.threadId);
  }

  /** Refuses new jobs, fails the waiting ones and stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new UnavailableError('UNAVAILABLE', 'Shutting down.'));
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  /** Whether the account's plans held a worker past SLOW_JOB_MS lately. */
  private isSlow(owner: string | undefined): boolean {
    if (owner === undefined) return false;
    const until = this.slowUntil.get(owner);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.slowUntil.delete(owner);
    return false;
  }

  /**
   * The next job to start: everyone's before slow accounts', first come first
   * served within each; a slow account's only while a worker stays free for the others.
   */
  private nextJob(): number {
    const eligible = (job: Job) => job.owner === undefined || !this.planning.has(job.owner);
    const fast = this.queue.findIndex((job) => eligible(job) && !this.isSlow(job.owner));
    if (fast !== -1) return fast;
    const slowRunning = [...this.slots].filter((s) => s.job && (s.slow || this.isSlow(s.job.owner))).length;
    if (slowRunning >= Math.max(1, this.options.workers - 1)) return -1;
    return this.queue.findIndex(eligible);
  }

  /** Hands eligible jobs to idle workers, starting workers up to the pool's size. */
  private dispatch(): void {
    for (;;) {
      const index = this.nextJob();
      if (index === -1) return;
      const slot = [...this.slots].find((s) => s.ready && !s.job);
      if (!slot) {
        // Workers start with the first plan, all of them (each loads the parser, ~0.3 s of CPU), and stay: a
        // learner never waits for a worker to start because someone else's plan holds the first one.
        while (this.slots.size < this.options.workers) this.spawn();
        return;
      }
      const [job] = this.queue.splice(index, 1);
      if (job) this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    if (job.owner !== undefined) this.planning.add(job.owner);
    slot.timer = setTimeout(() => {
      slot.stopped = 'timeMs';
      void slot.worker.terminate();
    }, this.options.timeoutMs);
    slot.slowTimer = setTimeout(() => {
      slot.slow = true;
      if (job.owner === undefined) return;
      const now = Date.now();
      // Accounts that never come back are forgotten once they no longer count, so the map stays small.
      for (const [owner, until] of this.slowUntil) if (until <= now) this.slowUntil.delete(owner);
      this.slowUntil.set(job.owner, now + SLOW_ACCOUNT_MS);
    }, SLOW_JOB_MS);
    const message: PlanJobMessage = { id: job.id, files: job.files, options: job.options, limits: this.options.limits };
    slot.worker.postMessage(message);
  }

  private spawn(): void {
    const worker = new Worker(this.path, {
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerMemoryMb },
      // The parser writes memory dumps to stderr when it runs out: counted and dropped, never copied into
      // the service's JSON log (they may quote user SQL).
      stdout: true,
      stderr: true,
    });
    const slot: Slot = { worker, ready: false, stderrBytes: 0 };
    this.slots.add(slot);
    worker.unref();
    worker.stdout.resume();
    worker.stderr.on('data', (chunk: Buffer) => {
      slot.stderrBytes += chunk.length;
    });
    worker.on('message', (reply: PlannerReply) => this.onReply(slot, reply));
    worker.on('error', (error) => {
      slot.failure = error;
    });
    worker.on('exit', () => this.onExit(slot));
  }

  private onReply(slot: Slot, reply: PlannerReply): void {
    if (reply.type === 'ready') {
      slot.ready = true;
      this.dispatch();
      return;
    }
    const job = this.finish(slot);
    if (!job) return;
    const { result } = reply;
    if (result.ok) this.settle(job, undefined, result.chain);
    else if ('error' in result)
      this.settle(
        job,
        new DomainError(result.error.code, result.error.message, {
          statusCode: result.error.statusCode,
          details: result.error.details,
        }),
      );
    else this.settle(job, new Error(`planning failed in its worker: ${result.unexpected}`));
    if (reply.parserFailed || reply.externalBytes > RECYCLE_EXTERNAL_BYTES || (!result.ok && !('error' in result))) {
      slot.stopped = 'retired';
      this.slots.delete(slot);
      void slot.worker.terminate();
    }
    this.dispatch();
  }

  private onExit(slot: Slot): void {
    this.slots.delete(slot);
    const job = this.finish(slot);
    if (job) this.settle(job, this.exitError(slot, job));
    else if (!slot.ready && !this.closed) {
      // A worker that cannot even start would be restarted forever: fail what waits instead.
      this.options.logger.error({ err: slot.failure }, 'a planner worker failed to start');
      for (const waiting of this.queue.splice(0)) this.settle(waiting, new Error('the planner worker failed to start'));
    }
    if (!this.closed) this.dispatch();
  }

  private exitError(slot: Slot, job: Job): Error {
    const where = { path: job.files[0]?.path ?? '', line: 1, column: 1, position: 1 };
    if (this.closed) return new UnavailableError('UNAVAILABLE', 'The service is shutting down.');
    if (slot.stopped === 'timeMs') {
      const max = this.options.timeoutMs;
      this.options.logger.warn({ limit: 'timeMs', max }, 'a plan ran past its time budget; its worker was stopped');
      return new ChainLimitError('timeMs', max, `planning the chain took longer than ${max} ms`, where);
    }
    if ((slot.failure as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const max = this.options.workerMemoryMb;
      this.options.logger.warn({ limit: 'memoryMb', max }, 'a plan ran out of its worker memory; its worker died');
      return new ChainLimitError('memoryMb', max, `planning the chain needed more than ${max} MB of memory`, where);
    }
    return new Error('the planner worker exited during a job', { cause: slot.failure });
  }

  /** Takes the job off its worker: timer, account bookkeeping, parser diagnostics. */
  private finish(slot: Slot): Job | undefined {
    const job = slot.job;
    clearTimeout(slot.timer);
    clearTimeout(slot.slowTimer);
    slot.job = undefined;
    slot.slow = false;
    if (slot.stderrBytes > 0) {
      this.options.logger.warn({ bytes: slot.stderrBytes }, 'the SQL parser wrote diagnostics (not logged)');
      slot.stderrBytes = 0;
    }
    if (job?.owner !== undefined) this.planning.delete(job.owner);
    return job;
  }

  private settle(job: Job, error: Error | undefined, chain?: Chain): void {
    this.heldChars -= job.chars;
    if (job.owner !== undefined) {
      const left = (this.pending.get(job.owner) ?? 1) - 1;
      if (left > 0) this.pending.set(job.owner, left);
      else this.pending.delete(job.owner);
    }
    if (error) job.reject(error);
    else if (chain) job.resolve(chain);
  }
}
