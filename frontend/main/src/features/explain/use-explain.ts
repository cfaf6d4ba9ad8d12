import type { ExplainResponse, RunRequest } from '@taidon/contracts';
import { useCallback, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import { type PlanTree, planTree } from './plan-tree.js';

/** One EXPLAIN of a tab: running, its plan, or why there is none. */
export interface ExplainView {
  localId: string;
  statement: string;
  /** Where the statement starts in the buffer, to place a syntax error. */
  tail: string;
  headOffset: number;
  status: 'running' | 'ok' | 'error';
  response: ExplainResponse | null;
  tree: PlanTree | null;
  error: ApiError | Error | null;
}

/** What an EXPLAIN sends: the statement under the cursor and the state it starts from. */
export interface ExplainInput {
  statement: string;
  tail: string;
  headOffset: number;
  sessionId: string;
  /** The tail as a run of this tab would send it (none: the session's instance as it is). */
  runTail: RunRequest['tail'] | undefined;
}

/** Each tab's last EXPLAIN; a new one aborts only that tab's previous request. */
export function useExplain(api: ApiClient, onRejected: (error: ApiError, input: ExplainInput, tabId: string) => void) {
  const views = useRef(new Map<string, ExplainView>());
  const aborts = useRef(new Map<string, AbortController>());
  const [, setVersion] = useState(0);
  const rejected = useRef(onRejected);
  rejected.current = onRejected;

  const start = useCallback(
    async (tabId: string, input: ExplainInput) => {
      if (input.statement.trim() === '') return;
      aborts.current.get(tabId)?.abort();
      const controller = new AbortController();
      aborts.current.set(tabId, controller);
      const view: ExplainView = {
        localId: crypto.randomUUID(),
        statement: input.statement,
        tail: input.tail,
        headOffset: input.headOffset,
        status: 'running',
        response: null,
        tree: null,
        error: null,
      };
      views.current.set(tabId, view);
      setVersion((v) => v + 1);
      try {
        const body = {
          session: input.sessionId,
          statement: input.statement,
          ...(input.runTail ? { tail: input.runTail } : {}),
        };
        const response = await api.explain(body, controller.signal);
        view.response = response;
        view.tree = planTree(response.plan);
        view.status = 'ok';
      } catch (error) {
        if (controller.signal.aborted) return;
        view.status = 'error';
        view.error = error instanceof Error ? error : new Error(String(error));
        if (error instanceof ApiError && error.sql) rejected.current(error, input, tabId);
      }
      setVersion((v) => v + 1);
    },
    [api],
  );

  const explainOf = useCallback((tabId: string) => views.current.get(tabId) ?? null, []);
  const forget = useCallback((tabId: string) => {
    aborts.current.get(tabId)?.abort();
    aborts.current.delete(tabId);
    views.current.delete(tabId);
  }, []);
  return { explainOf, start, forget };
}
