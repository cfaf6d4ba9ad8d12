import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AuthStore } from '../api/auth.js';
import { ApiClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { setCompletionSchema } from '../editor/completion.js';
import { type RunSelection, SqlEditor, type SqlEditorHandle } from '../editor/SqlEditor.js';
import { AccountMenu } from '../features/account/AccountMenu.js';
import { HistoryPanel } from '../features/history/HistoryPanel.js';
import { addHistory, type HistoryEntry, loadBuffer, loadHistory, saveBuffer } from '../features/history/history.js';
import { ResultsView } from '../features/results/ResultsView.js';
import { RunPanel } from '../features/run/RunPanel.js';
import { describeSource, type RunView } from '../features/run/run-model.js';
import { type RunMode, useRunner } from '../features/run/use-runner.js';
import { ShareBanner, type SharedView } from '../features/share/ShareBanner.js';
import { SharePanel, type SharePanelHandle } from '../features/share/SharePanel.js';
import { bufferOfShare, shareIdOfPath } from '../features/share/share-link.js';
import { ProblemsBar } from './ProblemsBar.js';
import { bufferOffset, type Problem, planFilesOf, problemOfRejection } from './plan-markers.js';
import { loadSessionId, newSessionId } from './session.js';
import { Toolbar } from './Toolbar.js';
import { useTheme } from './theme.js';

const STARTER = `-- Tail: the state every run starts from (cached as a layer). Head: below the marker, what runs now.
CREATE TABLE fruits (id int PRIMARY KEY, name text, price numeric(6,2));
INSERT INTO fruits VALUES (1, 'apple', 0.50), (2, 'pear', 0.75), (3, 'plum', NULL);
-- @head
SELECT * FROM fruits ORDER BY id;
`;
const PLAN_DEBOUNCE_MS = 500;
/** Finished runs whose results stay re-openable from history (rows can be many: keep few). */
const RECENT_RUNS_KEPT = 5;

/** The editor page: Monaco on the left, run state and history on the right, results below. */
export function App() {
  const auth = useMemo(() => new AuthStore(), []);
  const api = useMemo(() => new ApiClient(auth), [auth]);
  const [authState, setAuthState] = useState(auth.current);
  const [theme, setTheme] = useTheme();
  const [sessionId, setSessionId] = useState(loadSessionId);
  const [mode, setMode] = useState<RunMode>(() => (localStorage.getItem('taidon.mode') as RunMode) || 'tail');
  const [history, setHistory] = useState(loadHistory);
  const [planProblems, setPlanProblems] = useState<Problem[]>([]);
  const [runProblems, setRunProblems] = useState<Problem[]>([]);
  const [planSummary, setPlanSummary] = useState('');
  // A share page (`/s/{id}`) opens the link's SQL read-only instead of the saved buffer (ADR 0027).
  const [shared, setShared] = useState<SharedView | null>(() => {
    const id = shareIdOfPath(window.location.pathname);
    return id ? { state: 'loading', id } : null;
  });
  const [text, setText] = useState(() => (shared ? '' : loadBuffer(STARTER)));
  /** Whether edits are saved as the learner's buffer: not while a shared link's SQL is shown unedited. */
  const keepsBuffer = useRef(shared === null);
  const sharePanel = useRef<SharePanelHandle>(null);
  const editor = useRef<SqlEditorHandle>(null);
  const initialText = useRef(text);
  const recent = useRef(new Map<string, RunView>());

  useEffect(() => auth.subscribe(setAuthState), [auth]);
  useEffect(() => {
    // The first visit signs in without a form.
    void auth.token().catch(() => undefined);
  }, [auth]);
  useEffect(() => localStorage.setItem('taidon.mode', mode), [mode]);
  const sharedId = shared?.id;
  useEffect(() => {
    if (!sharedId) return;
    const controller = new AbortController();
    api.openShare(sharedId, controller.signal).then(
      (share) => {
        editor.current?.setText(bufferOfShare(share));
        setShared({ state: 'open', id: sharedId, readOnly: true, expiresAt: share.expiresAt });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setShared({ state: 'missing', id: sharedId });
        if (!(error instanceof ApiError)) console.error(error);
      },
    );
    return () => controller.abort();
  }, [api, sharedId]);
  /** The link whose state runs start from: the shared SQL as it was shown, unedited. */
  const runsFromShare = shared?.state === 'open' && shared.readOnly ? shared.id : undefined;
  const editShared = () => {
    if (shared?.state !== 'open') return;
    setShared({ ...shared, readOnly: false });
    keepsBuffer.current = true;
    saveBuffer(editor.current?.getText() ?? '');
    // A reload now keeps the learner's copy rather than opening the link again.
    window.history.replaceState(null, '', '/');
    editor.current?.focus();
  };

  const refreshSchema = useCallback(
    (id: string) => void api.schema(id).then(setCompletionSchema, () => undefined),
    [api],
  );

  const onFinished = useCallback(
    (run: RunView) => {
      const offset = run.error ? bufferOffset(run.error, run) : undefined;
      setRunProblems(
        run.error && offset !== undefined
          ? [
              {
                offset,
                message: `${run.error.message} (SQLSTATE ${run.error.sqlstate})`,
                source: 'run',
                sqlstate: run.error.sqlstate,
                hint: run.error.hint,
              },
            ]
          : [],
      );
      const entry: HistoryEntry = {
        id: run.localId,
        atIso: new Date().toISOString(),
        sessionId: run.sessionId,
        tail: run.tail,
        head: run.head,
        status: run.status,
        source: run.done?.source ?? null,
        totalMs: run.done?.timings.totalMs ?? null,
        summary: run.error
          ? `${run.error.sqlstate} ${run.error.message}`.slice(0, 80)
          : run.done
            ? `${describeSource(run.done)}, ${run.done.timings.totalMs} ms`
            : run.status,
      };
      setHistory(addHistory(entry));
      // The last few runs keep their rows in memory, so re-opening one from history shows its results again.
      recent.current.set(run.localId, run);
      for (const id of [...recent.current.keys()].slice(0, -RECENT_RUNS_KEPT)) recent.current.delete(id);
      if (run.sessionId) refreshSchema(run.sessionId);
    },
    [refreshSchema],
  );
  const { run, start, cancel, show } = useRunner(api, {
    onFinished,
    onRejected: ({ error, input }) => {
      const problem = problemOfRejection(error, input, 'run');
      setRunProblems(problem ? [problem] : []);
    },
  });

  const runSelection = useCallback(
    async (selection: RunSelection) => {
      setRunProblems([]);
      performance.mark('taidon:run-requested');
      try {
        await start({ ...selection, sessionId, mode, shareId: runsFromShare });
      } catch (error) {
        // The session belongs to an account this browser no longer holds (a new anonymous sign-in): start a new one.
        if (error instanceof ApiError && error.code === 'SQL_RUNNER_SESSION_NOT_FOUND') {
          const fresh = newSessionId();
          setSessionId(fresh);
          await start({ ...selection, sessionId: fresh, mode, shareId: runsFromShare });
        }
      }
    },
    [start, sessionId, mode, runsFromShare],
  );

  // Plan while typing: a syntax error is marked before anything runs.
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const { files, parts } = planFilesOf(text);
      if (files.length === 0) return setPlanProblems([]);
      api.plan({ files }, controller.signal).then(
        (plan) => {
          setPlanProblems([]);
          const cached = plan.startsFrom && plan.startsFrom.afterStep >= 0;
          setPlanSummary(
            `${plan.steps.length} steps${cached ? `, cached up to step ${(plan.startsFrom?.afterStep ?? 0) + 1}` : ''}`,
          );
        },
        (error: unknown) => {
          if (controller.signal.aborted || !(error instanceof ApiError)) return;
          const problem = problemOfRejection(error, parts, 'plan');
          setPlanProblems(problem ? [problem] : []);
          setPlanSummary('');
        },
      );
    }, PLAN_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text, api]);

  const onChange = useCallback((value: string) => {
    if (keepsBuffer.current) saveBuffer(value);
    setText(value);
  }, []);

  const problems = useMemo(() => [...planProblems, ...runProblems], [planProblems, runProblems]);
  const errorPosition = useMemo(() => {
    const offset = run?.error ? bufferOffset(run.error, run) : undefined;
    return offset === undefined ? null : (editor.current?.positionOf(offset) ?? null);
  }, [run, run?.error]);

  const runHead = () => {
    const { parts } = planFilesOf(editor.current?.getText() ?? '');
    void runSelection({ tail: parts.tail, head: parts.head, headOffset: parts.headOffset });
  };

  // Ctrl/Cmd+Enter also runs when the focus is outside the editor (results, history).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.key !== 'Enter') return;
      if ((event.target as HTMLElement | null)?.closest('.editor-host')) return;
      event.preventDefault();
      runHead();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const share = () => {
    const { parts } = planFilesOf(editor.current?.getText() ?? '');
    // The same tail shape a run sends, so the link's key is the state the runs of this buffer built.
    const tail = runsFromShare
      ? { share: runsFromShare }
      : parts.tail.trim() === ''
        ? undefined
        : { files: [{ path: 'tail.sql', sql: parts.tail }] };
    sharePanel.current?.share(tail ? { tail, head: parts.head } : { head: parts.head });
  };
  const reset = () => {
    setSessionId(newSessionId());
    setCompletionSchema({ tables: [] });
    editor.current?.focus();
  };
  const openHistory = (entry: HistoryEntry) => {
    editor.current?.setText(entry.tail ? `${entry.tail}\n-- @head\n${entry.head}` : entry.head);
    const kept = recent.current.get(entry.id);
    if (kept) show(kept);
    editor.current?.focus();
  };

  return (
    <div className="app">
      <header className="topbar">
        <h1>Taidon</h1>
        <Toolbar editor={editor} mode={mode} onMode={setMode} onRunHead={runHead} onReset={reset} onShare={share} />
        <div className="spacer" />
        <button
          type="button"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <AccountMenu auth={auth} state={authState} />
        <SharePanel ref={sharePanel} api={api} />
      </header>
      <main className="workspace">
        <div className="editor-pane">
          {shared && <ShareBanner view={shared} onEdit={editShared} />}
          <SqlEditor
            ref={editor}
            initialText={initialText.current}
            theme={theme}
            markers={problems}
            readOnly={shared?.state === 'loading' || runsFromShare !== undefined}
            onChange={onChange}
            onRun={(selection) => void runSelection(selection)}
          />
          <ProblemsBar problems={problems} planSummary={planSummary} editor={editor} />
        </div>
        <aside className="sidebar">
          <RunPanel run={run} onCancel={() => void cancel()} />
          <HistoryPanel entries={history} sessionId={sessionId} onOpen={openHistory} />
        </aside>
        <div className="results-pane">
          <ResultsView
            run={run}
            errorPosition={errorPosition}
            onFirstRowPainted={() => performance.mark('taidon:first-row-painted')}
          />
        </div>
      </main>
    </div>
  );
}
