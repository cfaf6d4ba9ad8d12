import type { RunEvent } from '@taidon/contracts';
import { useCallback, useRef } from 'react';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import { applyEvent, newRunView, type RunView } from '../run/run-model.js';

/** The head of a buffer run on a project's state, with the session it runs in. */
export interface ProjectRunInput {
  projectId: string;
  head: string;
  headOffset: number;
  sessionId: string;
}

/**
 * An error placed in one of the project's scripts (`seed/02-books.sql`) is
 * not in the buffer: its place goes into the message instead of a marker
 * on the head's lines.
 */
export function eventForBuffer(event: RunEvent): RunEvent {
  if (event.type !== 'error' || !event.path || event.path === 'head.sql' || event.line === undefined) return event;
  const { line, column, position: _position, ...rest } = event;
  return { ...rest, message: `${event.path}:${line}:${column ?? 1}: ${event.message}` };
}

/**
 * "Run on project state": the head runs with `tail: { project }`, so its
 * state is the one the project's `init/` and `seed/` scripts build (cached
 * per script). The run's view is handed to the page's runner (its `show`), so
 * it appears like any run of the tab (results, run panel, cancel, history).
 */
export function useProjectRun(
  api: ApiClient,
  show: (tabId: string, view: RunView) => void,
  hooks: {
    /** The run ended; `tabId` is the tab it ran in, which need not be the one shown now. */
    onFinished(view: RunView, tabId: string): void;
    /** The session belongs to an account this browser no longer holds: a new session id, to run once more in. */
    renewSession(): string;
  },
) {
  const aborts = useRef(new Map<string, AbortController>());
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const run = useCallback(
    async (input: ProjectRunInput, tabId: string, retried = false): Promise<void> => {
      if (input.head.trim() === '') return;
      aborts.current.get(tabId)?.abort();
      const controller = new AbortController();
      aborts.current.set(tabId, controller);
      const view = newRunView({ tail: '', head: input.head, headOffset: input.headOffset, sessionId: input.sessionId });
      show(tabId, view);
      let frame = 0;
      const refresh = () => {
        if (frame) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          if (!controller.signal.aborted) show(tabId, view);
        });
      };
      try {
        const body = { sessionId: input.sessionId, head: input.head, tail: { project: input.projectId } };
        for await (const event of api.run(body, controller.signal)) {
          applyEvent(view, eventForBuffer(event));
          refresh();
        }
        if (view.status === 'running') view.status = view.error ? 'error' : 'ok';
      } catch (error) {
        if (controller.signal.aborted) return;
        if (!retried && error instanceof ApiError && error.code === 'SQL_RUNNER_SESSION_NOT_FOUND') {
          return run({ ...input, sessionId: hooksRef.current.renewSession() }, tabId, true);
        }
        view.status = 'error';
        view.error = {
          type: 'error',
          phase: 'restore',
          code: error instanceof ApiError ? error.code : 'NETWORK',
          sqlstate: error instanceof ApiError ? (error.sql?.sqlstate ?? '') : '08006',
          message: error instanceof Error ? error.message : String(error),
        };
      }
      cancelAnimationFrame(frame);
      view.version++;
      show(tabId, view);
      hooksRef.current.onFinished(view, tabId);
    },
    [api, show],
  );
  return run;
}
