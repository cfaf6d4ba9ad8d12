import type { Chain } from '../../chain/index.js';
import type { RunnerDeps, RunState } from '../context.js';
import type { StartFacts, StartState } from './start-state.js';

/** The session as a run sees it. */
export interface SessionView {
  id: string;
  ownerId: string;
  /** The owner's role as the gateway vouched for it (env-manager gives anonymous owners an idle TTL). */
  ownerRole?: string;
  instanceId: string | null;
  currentKey: string | null;
}

/** What every strategy is asked: the state a run needs, and for whom. */
export interface StartRequest {
  deps: RunnerDeps;
  run: RunState;
  session: SessionView;
  /** The chain defining the state: the run's tail, or the empty chain (K0) for a head alone. */
  tail: Chain;
  /** A head alone: the session's instance is continued in whatever state it is, when it is still there. */
  continues: boolean;
}

/** One way of obtaining a starting state: it answers a StartState, or undefined to pass to the next one. */
export interface StartStrategy {
  name: string;
  /** Whether it starts a new instance: the run holds an instance slot before the first such strategy is tried. */
  newInstance: boolean;
  attempt(request: StartRequest): Promise<StartState | undefined>;
}

/**
 * A start that stopped part way, after an instance was restored (a replay
 * that failed or was cancelled): what was known of it then, for the run's
 * `done` and record, and why it stopped (`reason`, rethrown by the run).
 */
export class StartAborted extends Error {
  constructor(
    readonly facts: StartFacts,
    readonly reason: unknown,
  ) {
    super('start aborted');
    this.name = 'StartAborted';
  }
}
