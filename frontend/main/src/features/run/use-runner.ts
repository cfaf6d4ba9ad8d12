import type { RunRequest } from '@taidon/contracts';
import { useCallback, useMemo, useRef, useState, useSyncExternalStore } from 'react';
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

/**
 * Where the components that show a run (the run panel, the results) read it: they subscribe and render when a
 * run changes, so a run's first rows render them alone, not the page around them.
 */
export interface RunStore {
  /** The tab's last run (running or finished), or null before its first. */
  runOf(tabId: string): RunView | null;
  subscribe(listener: () => void): () => void;
  /** Changes with every render-worthy change of any run (the snapshot useSyncExternalStore compares). */
  version(): number;
}

/** The tab's last run, this component rendered again whenever it changes. */
export function useRunOf(store: RunStore, tabId: string): RunView | null {
  useSyncExternalStore(store.subscribe, store.version);
  return store.runOf(tabId);
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
 * rows are rendered as soon as they are parsed, by the components that show
 * the run alone (they read it from `store`), and drawn in a frame of their
 * own; later changes are rendered at most once a frame, with the page; the
 * caller's `onFinished` (history, markers, schema) waits until the frame
 * with the rows was painted. A tab's new run aborts only that tab's
 * previous one.
 */
export function useRunner(
  api: ApiClient,
  hooks: { onFinished(run: RunView, tabId: string): void; onRejected(r: RunRejection): void },
) {
  const runs = useRef(new Map<string, RunView>());
  const aborts = useRef(new Map<string, AbortController>());
  const listeners = useRef(new Set<() => void>());
  const version = useRef(0);
  const [, setPageVersion] = useState(0);
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const store = useMemo<RunStore>(
    () => ({
      runOf: (tabId) => runs.current.get(tabId) ?? null,
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
      version: () => version.current,
    }),
    [],
  );
  /** Renders the components showing runs (they subscribed to the store). */
  const notify = useCallback(() => {
    version.current++;
    for (const listener of [...listeners.current]) listener();
  }, []);
  /** Renders them and the page too (which marks the tabs whose run is in flight). */
  const bump = useCallback(() => {
    notify();
    setPageVersion((v) => v + 1);
  }, [notify]);

  const start = useCallback(
    async (input: RunInput, tabId: string) => {
      if (input.head.trim() === '') return;
      aborts.current.get(tabId)?.abort();
      const controller = new AbortController();
      aborts.current.set(tabId, controller);
      const view = newRunView(input);
      runs.current.set(tabId, view);
      /** The animation frame that renders the run's changes; -1 while the frame showing its first rows is to come. */
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
            // The first rows are rendered at once (not at the next frame), so the frame after shows them, and
            // only where they are shown (the run panel, the results), not the page. What comes after them (the
            // rest of the rows, the run's end, the page's running marks) is rendered in the frame after that one,
            // where it would have held their paint.
            performance.mark('taidon:first-rows-received');
            if (frame > 0) cancelAnimationFrame(frame);
            frame = 0;
            flushSync(notify);
            frame = -1;
            requestAnimationFrame(() => {
              frame = 0;
              refresh();
            });
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
    [api, bump, notify],
  );

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

  return { store, runOf: store.runOf, start, cancel, show, forget };
}
