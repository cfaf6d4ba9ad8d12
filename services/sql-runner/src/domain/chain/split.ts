import { ChainMetaCommandError, ChainStatementError } from './errors.js';
import { includeTarget, readInclude } from './includes.js';
import type { PlanBudget } from './limits.js';
import { echoText, readMetaCommand } from './meta-commands.js';
import {
  isBinaryCopy,
  isCopyFromStdin,
  type ParsedStatement,
  parseStatement,
  standardStringsSetting,
} from './parse.js';
import { PsqlLexer } from './psql-lexer.js';
import type { SourceText } from './source-text.js';
import type { StatementText } from './statement-text.js';
import { BEHAVIOUR_VARIABLES, isValidVariableName, type Variables } from './variables.js';

/** One step as split from its file, before keys and transaction state are added. */
export interface SplitStep {
  kind: string;
  sql: string;
  copyData?: string;
  notice?: string;
  source: SourceText;
  /** UTF-16 range of the step in its file. */
  start: number;
  end: number;
  parsed?: ParsedStatement;
}

/** State shared by all files of one chain, as one psql session would keep it. */
export interface SplitContext {
  sources: Map<string, SourceText>;
  variables: Variables;
  /** Key of an active \restrict, during which psql refuses other meta-commands. */
  restrictKey?: string;
  steps: SplitStep[];
  /** What the chain may still expand to; checked before each step, include and substitution. */
  budget: PlanBudget;
}

const SUPPORTED = new Set(['i', 'include', 'ir', 'include_relative', 'echo', 'set', 'unset', 'restrict', 'unrestrict']);

/** Splits one file into steps exactly as `psql -f` would send them, following includes. */
export function splitFile(source: SourceText, depth: number, context: SplitContext): void {
  const lexer = new PsqlLexer(source.text, context.variables, (length, referenceStart) =>
    context.budget.chargeChars(length, () => source.location(referenceStart)),
  );
  for (;;) {
    const result = lexer.next();
    if (result.kind === 'backslash') {
      const end = handleMetaCommand(
        source,
        result.at,
        result.statement.hasContent,
        depth,
        context,
        lexer.sourcePosition(),
      );
      lexer.resumeAt(end);
      continue;
    }
    if (result.statement.hasContent) {
      const resume = addStatement(source, result.statement, result.end, result.kind === 'semicolon', context);
      if (resume !== undefined) lexer.resumeAt(resume);
    }
    if (result.kind === 'eof') return;
  }
}

function addStatement(
  source: SourceText,
  statement: StatementText,
  end: number,
  terminated: boolean,
  context: SplitContext,
): number | undefined {
  const sql = statement.toString();
  // psql sends the terminating ';' too, so the parser sees it ("syntax error at or near \";\"").
  const parsed = parseStatement(sql, statement, source, terminated ? end - 1 : undefined);
  if (!parsed) return undefined;
  if (standardStringsSetting(parsed) === 'off') {
    throw new ChainStatementError(
      'SQL_RUNNER_SETTING_UNSUPPORTED',
      `line ${source.point(statement.start).line}: standard_conforming_strings = off is not supported`,
      source.location(statement.start),
    );
  }
  context.budget.countStep(() => source.location(statement.start));
  const step: SplitStep = { kind: parsed.kind, sql, source, start: statement.start, end, parsed };
  context.steps.push(step);
  if (!isCopyFromStdin(parsed)) return undefined;
  const line = source.point(statement.start).line;
  if (isBinaryCopy(parsed)) {
    throw new ChainStatementError(
      'SQL_RUNNER_COPY_UNSUPPORTED',
      `line ${line}: binary COPY FROM STDIN is not supported`,
      source.location(statement.start),
    );
  }
  const text = source.text;
  const lineEnd = source.lineEnd(end);
  if (terminated && !/^[ \t\r\f]*(?:--.*)?$/.test(text.slice(end, lineEnd))) {
    throw new ChainStatementError(
      'SQL_RUNNER_COPY_UNSUPPORTED',
      `line ${line}: COPY ... FROM STDIN must be the last statement on its line (its data starts on the next line)`,
      source.location(end),
    );
  }
  const dataStart = terminated ? Math.min(lineEnd + 1, text.length) : text.length;
  const marker = findEndOfData(text, dataStart);
  let copyData = text.slice(dataStart, marker === -1 ? text.length : marker);
  if (copyData !== '' && !copyData.endsWith('\n')) copyData += '\n';
  step.copyData = copyData;
  step.end = marker === -1 ? text.length : Math.min(source.lineEnd(marker) + 1, text.length);
  return step.end;
}

/** Index of the `\.` line that ends COPY data starting at `from`, or -1 (the data runs to the end of the file). */
function findEndOfData(text: string, from: number): number {
  let at = from;
  for (;;) {
    if (text.startsWith('\\.', at)) {
      const next = text[at + 2];
      if (
        next === undefined ||
        next === '\n' ||
        (next === '\r' && (text[at + 3] === undefined || text[at + 3] === '\n'))
      )
        return at;
    }
    const newline = text.indexOf('\n\\.', at);
    if (newline === -1) return -1;
    at = newline + 1;
  }
}

function handleMetaCommand(
  source: SourceText,
  at: number,
  insideStatement: boolean,
  depth: number,
  context: SplitContext,
  fallback: number,
): number {
  if (at < 0) {
    const line = source.point(fallback).line;
    throw new ChainMetaCommandError(
      'SQL_RUNNER_META_COMMAND_INVALID',
      `line ${line}: a variable's value holds a meta-command`,
      source.location(fallback),
      '\\',
    );
  }
  const command = readMetaCommand(source, at, context.variables, (length, reference) =>
    context.budget.chargeChars(length, () => source.location(reference)),
  );
  const name = `\\${command.name}`;
  const line = source.point(at).line;
  const invalid = (message: string): never => {
    throw new ChainMetaCommandError(
      'SQL_RUNNER_META_COMMAND_INVALID',
      `${name} on line ${line}: ${message}`,
      source.location(at),
      name,
    );
  };
  const argCount = (min: number, max: number): void => {
    if (command.args.length < min) invalid('missing required argument');
    if (command.args.length > max) invalid(`extra argument "${command.args[max]?.value}"`);
  };
  if (!SUPPORTED.has(command.name)) {
    throw new ChainMetaCommandError(
      'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
      `meta-command ${name} on line ${line} is not supported`,
      source.location(at),
      name,
    );
  }
  if (insideStatement)
    invalid('meta-commands inside an unfinished statement are not supported; end the statement with ";" first');
  if (context.restrictKey !== undefined && command.name !== 'unrestrict')
    invalid('only \\unrestrict is allowed in restricted mode');
  switch (command.name) {
    case 'i':
    case 'include':
    case 'ir':
    case 'include_relative': {
      argCount(1, 1);
      const relative = command.name === 'ir' || command.name === 'include_relative';
      const target = includeTarget(command.args[0]?.value ?? '', source, at, relative);
      const where = () => source.location(at);
      context.budget.countInclude(where);
      const included = readInclude(target, source, at, depth, context.sources, context.budget.limits.maxIncludeDepth);
      context.budget.chargeChars(included.text.length, where);
      splitFile(included, depth + 1, context);
      break;
    }
    case 'echo':
      context.budget.countStep(() => source.location(at));
      context.steps.push({
        kind: 'Echo',
        sql: '',
        notice: echoText(command.args),
        source,
        start: at,
        end: command.end,
      });
      break;
    case 'set': {
      const [first, ...values] = command.args;
      if (!first) {
        throw new ChainMetaCommandError(
          'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
          `${name} on line ${line}: listing variables is not supported`,
          source.location(at),
          name,
        );
      }
      if (!isValidVariableName(first.value)) invalid(`invalid variable name "${first.value}"`);
      if (BEHAVIOUR_VARIABLES.has(first.value)) {
        throw new ChainMetaCommandError(
          'SQL_RUNNER_META_COMMAND_UNSUPPORTED',
          `${name} on line ${line}: ${first.value} changes how psql sends statements and is not supported`,
          source.location(at),
          name,
        );
      }
      const value = values.map((part) => part.value).join('');
      context.budget.checkVariable(first.value, value.length, () => source.location(at));
      context.variables.set(first.value, value);
      break;
    }
    case 'unset':
      argCount(1, 1);
      context.variables.unset(command.args[0]?.value ?? '');
      break;
    case 'restrict':
      argCount(1, 1);
      context.restrictKey = command.args[0]?.value;
      break;
    case 'unrestrict':
      argCount(1, 1);
      if (context.restrictKey === undefined) invalid('not currently in restricted mode');
      if (context.restrictKey !== command.args[0]?.value) invalid('wrong key');
      context.restrictKey = undefined;
      break;
  }
  return command.end;
}
