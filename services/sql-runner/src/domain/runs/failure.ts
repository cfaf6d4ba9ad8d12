import type { RunEvent } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';

/** Where a run is: planning its head, restoring its state, replaying its tail, executing its head. */
export type RunPhase = 'plan' | 'restore' | 'replay' | 'execute';

/** SQLSTATE of a failure of the platform rather than of the learner's SQL (PostgreSQL's `system_error`). */
export const PLATFORM_SQLSTATE = '58000';

/** What the learner reads of a platform failure whose own message is internal (a 5xx), by phase. */
const PLATFORM_MESSAGES: Record<RunPhase, string> = {
  plan: 'The platform could not plan the head of this run.',
  restore: 'The platform could not provide the instance for this run.',
  replay: 'The platform failed while replaying the tail of this run.',
  execute: 'The platform lost the instance while executing the head of this run.',
};

/**
 * A run stopped by something other than the learner's SQL, in the phase it
 * happened: the `error` event names that phase, the platform's code and the
 * SQLSTATE. Errors in the learner's SQL are not failures: a replayed step's
 * error ends the run with its own SQLSTATE (ReplayFailed), a head's error
 * is a statement's `error` event.
 */
export class RunFailure extends Error {
  constructor(
    readonly phase: RunPhase,
    override readonly cause: unknown,
  ) {
    super(`run failed while in phase ${phase}`);
    this.name = 'RunFailure';
  }

  /** The platform's code: a DomainError's own (a sibling's code travels with it), else INTERNAL. */
  get code(): string {
    return this.cause instanceof DomainError ? this.cause.code : 'INTERNAL';
  }

  /**
   * A planning error keeps the SQLSTATE its code stands for (54000 for a plan past its limits); every other
   * failure is 58000, whichever phase it stopped.
   */
  get sqlstate(): string {
    const own = this.cause instanceof DomainError ? this.cause.details.sqlstate : undefined;
    return typeof own === 'string' ? own : PLATFORM_SQLSTATE;
  }

  /** The `error` event of the failure; a 4xx's message is the learner's to read, a 5xx's stays in the log. */
  event(): Extract<RunEvent, { type: 'error' }> {
    const told = this.cause instanceof DomainError && this.cause.statusCode < 500;
    return {
      type: 'error',
      phase: this.phase,
      code: this.code,
      sqlstate: this.sqlstate,
      message: told ? (this.cause as DomainError).message : PLATFORM_MESSAGES[this.phase],
    };
  }
}
