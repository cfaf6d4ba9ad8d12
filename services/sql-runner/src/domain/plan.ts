import type { PlanInput, PlanRequest, PlanResponse } from '@taidon/contracts';
import type { SnapshotCacheClient } from '../clients/snapshot-cache.js';
import type { Planner } from '../planner/pool.js';
import type { SourceFile } from './chain/index.js';
import type { EngineIdentity } from './engine.js';
import type { ProjectTails } from './projects/project-tails.js';

/** Path given to the text of a `{ sql }` plan input, in steps and errors. */
export const INLINE_SCRIPT_PATH = 'query.sql';

/** The files of a plan input, in execution order. */
export function sourceFiles(input: PlanInput): SourceFile[] {
  return 'sql' in input ? [{ path: INLINE_SCRIPT_PATH, sql: input.sql }] : input.files;
}

/**
 * Splits and keys a chain without running anything: the steps PostgreSQL
 * would execute, each with its position and state key. Errors in the SQL
 * (syntax, meta-commands, includes) are thrown as 422 domain errors. With
 * the cache at hand it also says, per step, whether its state is cached and
 * which layer a run of this chain would start from. The planning itself
 * happens in the planner's workers, on behalf of `owner` (the account asking).
 * A project (`{ project, ref? }`) is planned as its scripts, read for `owner`.
 */
export async function planInput(
  request: PlanRequest,
  engine: EngineIdentity,
  planner: Planner,
  context: {
    projects: ProjectTails;
    cache?: SnapshotCacheClient | undefined;
    requestId?: string;
    owner?: string | undefined;
  },
): Promise<PlanResponse> {
  const { cache, requestId, owner } = context;
  const input: PlanInput = 'project' in request ? await context.projects.resolve(request, owner) : request;
  const chain = await planner.plan(
    sourceFiles(input),
    { engineVersion: engine.version, settings: { ...engine.settings } },
    owner,
  );
  const plan: PlanResponse = {
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
  if (!cache) return plan;
  // The cache decision a run would make: path index 0 is the base state, i + 1 the state after step i.
  const found = await cache.lookup([chain.baseKey, ...chain.steps.map((s) => s.key)], requestId);
  const cached = new Set(found.cached);
  for (const step of plan.steps) step.cached = cached.has(step.index + 1);
  plan.startsFrom =
    found.key === null
      ? null
      : { key: found.key, afterStep: found.index - 1, replaySteps: chain.steps.length - found.index };
  return plan;
}
