import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';

/** Code of the refusal of a run over the account's open runs (429). */
export const OPEN_RUNS_EXCEEDED = 'SQL_RUNNER_OPEN_RUNS_EXCEEDED';

/** A quota refused the run; the route sends `retryAfterSeconds` as Retry-After. */
export class QuotaRefusal extends DomainError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
    details: Record<string, unknown>,
  ) {
    super(code, message, { statusCode: 429, details: { ...details, retryAfterSeconds } });
  }
}

/** More runs started in the last minute than the account's `runsPerMinute`. */
export class RunRateExceededError extends QuotaRefusal {
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      ACCOUNT_ERROR_CODES.runRateExceeded,
      `At most ${limit} runs per minute; try again in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
      { runsPerMinute: limit },
    );
  }
}

/** The run needs a new instance; the account holds its `instances` quota and runs are using every one. */
export class InstanceQuotaExceededError extends QuotaRefusal {
  constructor(limit: number, held: number, retryAfterSeconds = 1) {
    super(
      ACCOUNT_ERROR_CODES.instanceQuotaExceeded,
      `This account may hold ${limit} instance(s) and runs are using all ${held}; wait for one to finish or continue in its session.`,
      retryAfterSeconds,
      { instances: limit, held },
    );
  }
}

/** The account has as many runs open as it may: a new one waits until one ends. */
export class OpenRunsExceededError extends QuotaRefusal {
  constructor(limit: number, open: number, retryAfterSeconds = 1) {
    super(
      OPEN_RUNS_EXCEEDED,
      `This account may have ${limit} run(s) open at once and has ${open}; wait for one to finish.`,
      retryAfterSeconds,
      { openRuns: limit, open },
    );
  }
}
