import { DomainError } from '@taidon/kit';

/** The planner's own refusals, before a plan is even tried; each is documented in the README. */
export const PLANNER_ERROR_CODES = {
  SQL_RUNNER_PLANNER_BUSY:
    'Every planner worker is busy and the queue of plans waiting for one is full (503); `Retry-After` says when to try again.',
  SQL_RUNNER_PLANNER_ACCOUNT_BUSY:
    'The account already has `PLAN_QUEUE_PER_ACCOUNT` plans waiting or being planned (429); `Retry-After` says when to try again.',
} as const;

/** A refusal that asks the client to come back: the answer carries `Retry-After` (see registerPlanner). */
export class PlannerBusyError extends DomainError {
  readonly retryAfterSeconds: number;

  constructor(code: keyof typeof PLANNER_ERROR_CODES, message: string, retryAfterSeconds: number) {
    super(code, message, {
      statusCode: code === 'SQL_RUNNER_PLANNER_BUSY' ? 503 : 429,
      details: { retryAfterSeconds },
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
