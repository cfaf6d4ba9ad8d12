import type { StateSource } from '@taidon/contracts';
import type { InstanceInfo } from '../../../clients/env-manager.js';
import type { SessionConnection } from '../connections.js';

/** How a run's starting state was obtained, as its `done` event and its record tell it. */
export interface StartFacts {
  /**
   * session: the session's own instance; template-reset: the session's own instance, its database recreated from
   * its template database; pool: a warm-pool instance; clone: a new clone of a layer; template: a fresh instance.
   */
  source: StateSource;
  /** Whether the instance came from env-manager's warm pool (source `pool`). */
  warmPool: boolean;
  /** The layer the state came from; null for the session's instance as it was and for a fresh template. */
  layerKey: string | null;
  /** Tail steps replayed on top of that layer. */
  stepsReplayed: number;
  timings: { restoreMs: number; replayMs: number };
}

/** The state a run starts from: the one answer of every strategy (see index.ts). */
export interface StartState extends StartFacts {
  /** The strategy that gave it, by name. */
  strategy: string;
  instance: InstanceInfo;
  /** The learner's connection to `instance`, open. */
  connection: SessionConnection;
  /** Key of the state the instance is at; null when unknown (after an error inside a transaction block). */
  key: string | null;
}
