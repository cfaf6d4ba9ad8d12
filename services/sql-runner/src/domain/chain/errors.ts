import { UnprocessableError } from '@taidon/kit';

/**
 * Every error the chain planner throws, with the SQLSTATE it reports and one
 * line for the README. All of them are 422: the script, not the server, is wrong.
 */
export const CHAIN_ERROR_CODES = [
  {
    code: 'SQL_RUNNER_SYNTAX_ERROR',
    sqlstate: '42601',
    meaning: 'A statement does not parse; details give path, line, column and position of the offending token.',
  },
  {
    code: 'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
    sqlstate: '0A000',
    meaning:
      'A psql meta-command other than \\i, \\ir, \\echo, \\set, \\unset, \\restrict, \\unrestrict, or a backquoted (shell) argument.',
  },
  {
    code: 'SQL_RUNNER_META_COMMAND_INVALID',
    sqlstate: '42601',
    meaning:
      'A supported meta-command used wrongly: missing or extra argument, unterminated quote, inside an unfinished statement, or refused in \\restrict mode.',
  },
  {
    code: 'SQL_RUNNER_INCLUDE_NOT_FOUND',
    sqlstate: '58P01',
    meaning: 'The file named by \\i or \\ir is not part of the project.',
  },
  {
    code: 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT',
    sqlstate: '42501',
    meaning: 'The file named by \\i or \\ir is absolute or leaves the project root via "..".',
  },
  {
    code: 'SQL_RUNNER_INCLUDE_TOO_DEEP',
    sqlstate: '54001',
    meaning:
      'Includes nest deeper than PLAN_MAX_INCLUDE_DEPTH levels (default 16), usually a file including itself; details give `limit` and `max`.',
  },
  {
    code: 'SQL_RUNNER_COPY_UNSUPPORTED',
    sqlstate: '0A000',
    meaning: 'A COPY ... FROM STDIN in binary format, or followed by more SQL on the same line.',
  },
  {
    code: 'SQL_RUNNER_MULTIPLE_STATEMENTS',
    sqlstate: '0A000',
    meaning: 'psql would send several statements as one query (its BEGIN ... END heuristic); split them with ";".',
  },
  {
    code: 'SQL_RUNNER_PLAN_LIMIT_EXCEEDED',
    sqlstate: '54000',
    meaning:
      "The chain expands past one of the planning limits (steps, characters read, includes followed, a variable's length, planning time or memory); details name it in `limit` with its value in `max`, and the location is the statement or meta-command that crossed it (the start of the first file for time and memory).",
  },
  {
    code: 'SQL_RUNNER_TEXT_INVALID',
    sqlstate: '22021',
    meaning:
      'A file holds a character PostgreSQL cannot take (a NUL, or half of a UTF-16 surrogate pair); details give its position and `character`.',
  },
  {
    code: 'SQL_RUNNER_STATEMENT_TOO_COMPLEX',
    sqlstate: '54001',
    meaning: 'The parser ran out of stack or memory on one statement (too large or too deeply nested).',
  },
  {
    code: 'SQL_RUNNER_SETTING_UNSUPPORTED',
    sqlstate: '0A000',
    meaning: 'The script turns standard_conforming_strings off, which changes how psql and the parser read quotes.',
  },
] as const;

/** One of the codes in CHAIN_ERROR_CODES. */
export type ChainErrorCode = (typeof CHAIN_ERROR_CODES)[number]['code'];

/** Where in the project an error points: 1-based line and code-point column. */
export interface ChainErrorLocation {
  path: string;
  line: number;
  column: number;
  /** 1-based code-point offset in the file. */
  position: number;
}

function sqlstateOf(code: ChainErrorCode): string {
  return CHAIN_ERROR_CODES.find((entry) => entry.code === code)?.sqlstate ?? '42601';
}

/** Base of every chain error: a 422 whose details carry the SQLSTATE and the location. */
export class ChainError extends UnprocessableError {
  constructor(
    code: ChainErrorCode,
    message: string,
    location: ChainErrorLocation,
    extra: Record<string, unknown> = {},
  ) {
    super(code, message, { sqlstate: sqlstateOf(code), message, ...location, ...extra });
  }
}

/** A statement the PostgreSQL parser rejects; the location is the offending token. */
export class ChainSyntaxError extends ChainError {
  constructor(message: string, location: ChainErrorLocation) {
    super('SQL_RUNNER_SYNTAX_ERROR', message, location);
  }
}

/** A psql meta-command that is not supported, or a supported one used wrongly. */
export class ChainMetaCommandError extends ChainError {
  constructor(
    code: 'SQL_RUNNER_META_COMMAND_UNSUPPORTED' | 'SQL_RUNNER_META_COMMAND_INVALID',
    message: string,
    location: ChainErrorLocation,
    command: string,
  ) {
    super(code, message, location, { command });
  }
}

/** An \i or \ir that cannot be followed; the location is the include line. */
export class ChainIncludeError extends ChainError {
  constructor(
    code: 'SQL_RUNNER_INCLUDE_NOT_FOUND' | 'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT' | 'SQL_RUNNER_INCLUDE_TOO_DEEP',
    message: string,
    location: ChainErrorLocation,
    target: string,
    extra: Record<string, unknown> = {},
  ) {
    super(code, message, location, { target, ...extra });
  }
}

/** A statement psql would run differently from how a chain step can carry it. */
export class ChainStatementError extends ChainError {
  constructor(
    code:
      | 'SQL_RUNNER_COPY_UNSUPPORTED'
      | 'SQL_RUNNER_MULTIPLE_STATEMENTS'
      | 'SQL_RUNNER_SETTING_UNSUPPORTED'
      | 'SQL_RUNNER_STATEMENT_TOO_COMPLEX',
    message: string,
    location: ChainErrorLocation,
  ) {
    super(code, message, location);
  }
}

/**
 * The limits a plan is held to (see limits.ts), by the name `details.limit`
 * carries: `includeDepth` is reported as SQL_RUNNER_INCLUDE_TOO_DEEP, every
 * other one as SQL_RUNNER_PLAN_LIMIT_EXCEEDED.
 */
export type PlanLimitName = 'steps' | 'chars' | 'includes' | 'includeDepth' | 'variableChars' | 'timeMs' | 'memoryMb';

/** The chain expands past a planning limit; `limit` names it and `max` is its value. */
export class ChainLimitError extends ChainError {
  constructor(
    limit: Exclude<PlanLimitName, 'includeDepth'>,
    max: number,
    message: string,
    location: ChainErrorLocation,
  ) {
    super('SQL_RUNNER_PLAN_LIMIT_EXCEEDED', message, location, { limit, max });
  }
}

/** A character PostgreSQL cannot take: a NUL, or a surrogate without its pair; `character` is its code point as U+XXXX. */
export class ChainTextError extends ChainError {
  constructor(message: string, location: ChainErrorLocation, character: string) {
    super('SQL_RUNNER_TEXT_INVALID', message, location, { character });
  }
}
