import type { PlanInput, PlanResponse } from '@taidon/contracts';
import { planChain, type SourceFile } from './chain/index.js';
import type { EngineIdentity } from './engine.js';

/** Path given to the text of a `{ sql }` plan input, in steps and errors. */
export const INLINE_SCRIPT_PATH = 'query.sql';

/** The files of a plan input, in execution order. */
export function sourceFiles(input: PlanInput): SourceFile[] {
  return 'sql' in input ? [{ path: INLINE_SCRIPT_PATH, sql: input.sql }] : input.files;
}

/**
 * Splits and keys a chain without running anything: the steps PostgreSQL
 * would execute, each with its position and state key. Errors in the SQL
 * (syntax, meta-commands, includes) are thrown as 422 domain errors.
 */
export async function planInput(input: PlanInput, engine: EngineIdentity): Promise<PlanResponse> {
  const chain = await planChain(sourceFiles(input), {
    engineVersion: engine.version,
    settings: { ...engine.settings },
  });
  return {
    formatVersion: chain.formatVersion,
    baseKey: chain.baseKey,
    finalKey: chain.finalKey,
    steps: chain.steps.map((s) => ({
      index: s.index,
      kind: s.kind,
      path: s.path,
      line: s.line,
      column: s.column,
      key: s.key,
      opensTransaction: s.opensTransaction,
    })),
  };
}
