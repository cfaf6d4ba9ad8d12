import type { RunRequest } from '@taidon/contracts';
import { useCallback, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
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
  /** The tab the run was started in (the learner may have switched to another since). */
  tabId: string;
}

/** Longest the page shows nothing of a run whose reply has not come yet (its first event usually comes first). */
const RUNNING_SHOWN_WITHIN_MS = 100;

/** Longest wait for a frame: a hidden page draws none, and its run's history must still be written. */
const FRAME_WAIT_MAX_MS = 250;

/** Calls `then` once, after the browser painted the next frame: work that must not delay that frame. */
function afterNextPaint(then: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    then();
  };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, FRAME_WAIT_MAX_MS);
}

/**
 * Runs SQL and keeps each editor tab's last run up to date while events
 * stream in. The request leaves before the page renders anything, and the
 * page shows the run once the reply's first event is read (or 100 ms
 * without one): a frame left to draw while the key press's events are
 * handled would make Chromium hold the reply until it is drawn; the first
 * rows are rendered as soon as they are parsed, later ones at most once a
 * frame; the caller's `onFinished` (history, markers, schema) waits until
 * the frame with the rows was painted. A tab's new run aborts only that
 * tab's previous one.
 */
export function useRunner(
  api: ApiClient,
  hooks: { onFinished(run: RunView, tabId: string): void; onRejected(r: RunRejection): void },
) {
  const runs = useRef(new Map<string, RunView>());
  const aborts = useRef(new Map<string, AbortController>());
  const [, setVersion] = useState(0);
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const bump = useCallback(() => setVersion((v) => v + 1), []);

  const start = useCallback(
    async (input: RunInput, tabId: string) => {
      if (input.head.trim() === '') return;
      aborts.current.get(tabId)?.abort();
      const controller = new AbortController();
      aborts.current.set(tabId, controller);
      const view = newRunView(input);
      runs.current.set(tabId, view);
      let frame = 0;
      const refresh = () => {
        if (frame) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          bump();
        });
      };
      let shown: ReturnType<typeof setTimeout> | undefined;
      const body: RunRequest = { sessionId: input.sessionId, head: input.head };
      if (input.shareId) body.tail = { share: input.shareId };
      else if (input.mode === 'tail' && input.tail.trim() !== '') {
        body.tail = { files: [{ path: 'tail.sql', sql: input.tail }] };
      }
      try {
        // next() calls fetch() now, in this task. The page changes when the reply's first event is read (or
        // RUNNING_SHOWN_WITHIN_MS without one): a frame left to draw when a key press's events are handled
        // (the Enter's keyup too) makes Chromium hold every later task, that reply's included.
        const events = api.run(body, controller.signal);
        const first = events.next();
        shown = setTimeout(refresh, RUNNING_SHOWN_WITHIN_MS);
        for (let item = await first; !item.done; item = await events.next()) {
          clearTimeout(shown);
          if (applyEvent(view, item.value)) {
            // The first rows are rendered at once (not at the next frame), so the frame after shows them.
            performance.mark('taidon:first-rows-received');
            cancelAnimationFrame(frame);
            frame = 0;
            flushSync(bump);
          } else refresh();
        }
        if (view.status === 'running') view.status = view.error ? 'error' : 'ok';
      } catch (error) {
        if (controller.signal.aborted) return;
        // The caller starts a new session and tries again.
        if (error instanceof ApiError && error.code === 'SQL_RUNNER_SESSION_NOT_FOUND') throw error;
        view.status = 'error';
        if (error instanceof ApiError && error.sql) hooksRef.current.onRejected({ error, input, tabId });
        else {
          view.error = {
            type: 'error',
            phase: 'restore',
            code: error instanceof ApiError ? error.code : 'NETWORK',
            sqlstate: error instanceof ApiError ? (error.sql?.sqlstate ?? '') : '08006',
            message: error instanceof Error ? error.message : String(error),
          };
        }
      } finally {
        clearTimeout(shown);
      }
      view.version++;
      refresh();
      afterNextPaint(() => hooksRef.current.onFinished(view, tabId));
    },
    [api, bump],
  );

  /** The tab's last run (running or finished), or null before its first. */
  const runOf = useCallback((tabId: string) => runs.current.get(tabId) ?? null, []);

  const cancel = useCallback(
    async (tabId: string) => {
      const runId = runs.current.get(tabId)?.runId;
      if (runId) await api.cancel(runId).catch(() => undefined);
    },
    [api],
  );

  /** Shows a finished run again in a tab (re-opened from history). */
  const show = useCallback(
    (tabId: string, view: RunView) => {
      aborts.current.get(tabId)?.abort();
      runs.current.set(tabId, view);
      bump();
    },
    [bump],
  );

  /** Stops a closed tab's run and lets its rows go. */
  const forget = useCallback((tabId: string) => {
    aborts.current.get(tabId)?.abort();
    aborts.current.delete(tabId);
    runs.current.delete(tabId);
  }, []);

  return { runOf, start, cancel, show, forget };
}
