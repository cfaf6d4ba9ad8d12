import type { RunRequest } from '@taidon/contracts';
import { useCallback, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import { applyEvent, newRunView, type RunView } from './run-model.js';

/** How a run starts: from the tail each time, or where the session's instance is (REPL). */
export type RunMode = 'tail' | 'continue';

export interface RunInput {
  tail: string;
  head: string;
  headOffset: number;
  sessionId: string;
  mode: RunMode;
  /** A share link whose state the run starts from (its tail as kept), instead of the buffer's tail. */
  shareId?: string | undefined;
}

/** What the page learns from a run that could not start (422: a syntax error in the SQL). */
export interface RunRejection {
  error: ApiError;
  input: RunInput;
}

/**
 * Runs SQL and keeps the current run's view up to date while events stream
 * in; the React state is refreshed at most once a frame, rows included.
 */
export function useRunner(
  api: ApiClient,
  hooks: { onFinished(run: RunView): void; onRejected(r: RunRejection): void },
) {
  const [run, setRun] = useState<RunView | null>(null);
  const [, setVersion] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;

  const start = useCallback(
    async (input: RunInput) => {
      if (input.head.trim() === '') return;
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      const view = newRunView(input);
      setRun(view);
      let frame = 0;
      const refresh = () => {
        if (frame) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          setVersion(view.version);
        });
      };
      const body: RunRequest = { sessionId: input.sessionId, head: input.head };
      if (input.shareId) body.tail = { share: input.shareId };
      else if (input.mode === 'tail' && input.tail.trim() !== '') {
        body.tail = { files: [{ path: 'tail.sql', sql: input.tail }] };
      }
      try {
        for await (const event of api.run(body, controller.signal)) {
          applyEvent(view, event);
          refresh();
        }
        if (view.status === 'running') view.status = view.error ? 'error' : 'ok';
      } catch (error) {
        if (controller.signal.aborted) return;
        // The caller starts a new session and tries again.
        if (error instanceof ApiError && error.code === 'SQL_RUNNER_SESSION_NOT_FOUND') throw error;
        view.status = 'error';
        if (error instanceof ApiError && error.sql) hooksRef.current.onRejected({ error, input });
        else {
          view.error = {
            type: 'error',
            phase: 'restore',
            code: error instanceof ApiError ? error.code : 'NETWORK',
            sqlstate: error instanceof ApiError ? (error.sql?.sqlstate ?? '') : '08006',
            message: error instanceof Error ? error.message : String(error),
          };
        }
      }
      view.version++;
      setVersion(view.version);
      hooksRef.current.onFinished(view);
    },
    [api],
  );

  const cancel = useCallback(async () => {
    if (run?.runId) await api.cancel(run.runId).catch(() => undefined);
  }, [api, run]);

  /** Shows a finished run again (re-opened from history). */
  const show = useCallback((view: RunView) => {
    abort.current?.abort();
    setRun(view);
  }, []);

  return { run, start, cancel, show };
}
