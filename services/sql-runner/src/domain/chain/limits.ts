import { type ChainErrorLocation, ChainLimitError } from './errors.js';

/**
 * What one chain may expand to. A few hundred bytes of `\i` or `\set` can
 * ask for billions of steps or characters, so each bound is checked as the
 * planner goes, before the work it would cost is done (ADR 0021).
 */
export interface PlanLimits {
  /** Steps (statements and `\echo`) in the chain. */
  maxSteps: number;
  /**
   * Characters the planner reads: each file it runs, each included file every
   * time it is included, each substituted variable value every time it is
   * substituted (in statements and in meta-command arguments).
   */
  maxChars: number;
  /** `\i`/`\ir` followed in the whole chain, each counted every time it is followed. */
  maxIncludes: number;
  /** Nesting of includes; a file that includes itself reaches it first. */
  maxIncludeDepth: number;
  /** Length of one `\set` value, in characters. */
  maxVariableChars: number;
}

/**
 * The defaults, and why: 100,000 steps is ~6× the largest chains seen in
 * tests and fits snapshot-cache's key lookup; 32 Mi characters is the
 * documented size of one script (MAX_SCRIPT_CHARS), now also after
 * expansion; 10,000 includes is ten times the 1,000 files a request may
 * carry; depth 16 is psql's practical nesting long before its open-file limit;
 * 1 Mi characters is far beyond any variable a script sets by hand.
 */
export const DEFAULT_PLAN_LIMITS: Readonly<PlanLimits> = Object.freeze({
  maxSteps: 100_000,
  maxChars: 32 * 1024 * 1024,
  maxIncludes: 10_000,
  maxIncludeDepth: 16,
  maxVariableChars: 1024 * 1024,
});

/** Where an error points, computed only when the error is thrown. */
type Where = () => ChainErrorLocation;

function describe(location: ChainErrorLocation): string {
  return `line ${location.line} of ${location.path}`;
}

/** The running totals of one chain against its limits; every method throws ChainLimitError past one. */
export class PlanBudget {
  private steps = 0;
  private chars = 0;
  private includes = 0;

  constructor(readonly limits: Readonly<PlanLimits>) {}

  /** Counts `count` characters about to be read (a file, an include, a substituted value). */
  chargeChars(count: number, where: Where): void {
    this.chars += count;
    if (this.chars <= this.limits.maxChars) return;
    const location = where();
    throw new ChainLimitError(
      'chars',
      this.limits.maxChars,
      `${describe(location)}: the chain expands to more than ${this.limits.maxChars} characters (included files and variable values count each time they are read)`,
      location,
    );
  }

  /** Counts one more step. */
  countStep(where: Where): void {
    if (++this.steps <= this.limits.maxSteps) return;
    const location = where();
    throw new ChainLimitError(
      'steps',
      this.limits.maxSteps,
      `${describe(location)}: the chain has more than ${this.limits.maxSteps} steps`,
      location,
    );
  }

  /** Counts one more include followed. */
  countInclude(where: Where): void {
    if (++this.includes <= this.limits.maxIncludes) return;
    const location = where();
    throw new ChainLimitError(
      'includes',
      this.limits.maxIncludes,
      `${describe(location)}: the chain follows more than ${this.limits.maxIncludes} includes (an include counts each time it is followed)`,
      location,
    );
  }

  /** Checks the length of a value `\set` is about to give variable `name`. */
  checkVariable(name: string, length: number, where: Where): void {
    if (length <= this.limits.maxVariableChars) return;
    const location = where();
    throw new ChainLimitError(
      'variableChars',
      this.limits.maxVariableChars,
      `\\set on ${describe(location)}: the value of "${name.slice(0, 64)}" would be ${length} characters, more than the ${this.limits.maxVariableChars} allowed`,
      location,
    );
  }
}
