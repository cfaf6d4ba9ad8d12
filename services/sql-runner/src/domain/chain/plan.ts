import { loadModule } from 'libpg-query';
import { CANONICAL_FORMAT_VERSION, canonicalize } from './canonical.js';
import { projectPath } from './includes.js';
import { type ChainOptions, computeBaseKey, nextKey } from './keys.js';
import { DEFAULT_PLAN_LIMITS, PlanBudget, type PlanLimits } from './limits.js';
import { isCopyFromStdin, isCopyToStdout } from './parse.js';
import { SourceText } from './source-text.js';
import { type SplitContext, splitFile } from './split.js';
import { checkText } from './text-check.js';
import { transactionOpenAfter } from './transactions.js';
import type { Chain, SourceFile, Step } from './types.js';
import { Variables } from './variables.js';

export type { Chain, SourceFile, Step };

let parserReady: Promise<void> | undefined;

/** Loads the WASM parser once; planChain does it itself, canonicalize needs it done first. */
export function loadParser(): Promise<void> {
  parserReady ??= loadModule();
  return parserReady;
}

/**
 * Splits the project's files (those with run !== false, in the given order)
 * into steps exactly as `psql -f` would send them, parses each with the
 * PostgreSQL parser, and keys them. Throws a ChainError (422) for the first
 * syntax error, unsupported meta-command, bad include, character PostgreSQL
 * cannot take, or limit the expansion would cross, before anything runs.
 * This is CPU work on user text: the service runs it in its planner's worker
 * threads, never on the event loop that answers requests.
 */
export async function planChain(
  files: SourceFile[],
  options: ChainOptions,
  limits: Readonly<PlanLimits> = DEFAULT_PLAN_LIMITS,
): Promise<Chain> {
  await loadParser();
  const budget = new PlanBudget(limits);
  const context: SplitContext = { sources: new Map(), variables: new Variables(), steps: [], budget };
  const runs: SourceText[] = [];
  for (const file of files) {
    const source = new SourceText(projectPath(file.path) ?? file.path, file.sql);
    checkText(source);
    context.sources.set(source.path, source);
    if (file.run !== false) runs.push(source);
  }
  for (const source of runs) {
    budget.chargeChars(source.text.length, () => source.location(0));
    splitFile(source, 0, context);
  }

  const baseKey = options.startKey ?? computeBaseKey(options);
  let key = baseKey;
  let open = false;
  const steps = context.steps.map((split, index): Step => {
    let canonical: string | undefined;
    if (split.parsed) {
      canonical = canonicalize(split.sql);
      key = nextKey(key, canonical, split.copyData);
      open = transactionOpenAfter(open, split.parsed);
    }
    const start = split.source.point(split.start);
    const step: Step = {
      index,
      kind: split.kind,
      sql: split.sql,
      path: split.source.path,
      line: start.line,
      column: start.column,
      byteStart: start.byteOffset,
      byteEnd: split.source.point(split.end).byteOffset,
      opensTransaction: open,
      key,
    };
    if (split.copyData !== undefined) step.copyData = split.copyData;
    if (split.parsed && isCopyFromStdin(split.parsed)) step.copy = 'in';
    if (split.parsed && isCopyToStdout(split.parsed)) step.copy = 'out';
    if (split.notice !== undefined) step.notice = split.notice;
    if (options.keepCanonical && canonical !== undefined) step.canonical = canonical;
    return step;
  });
  return { baseKey, steps, finalKey: key, formatVersion: CANONICAL_FORMAT_VERSION };
}
