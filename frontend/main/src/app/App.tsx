import type { RunRequest, SharedResults } from '@taidon/contracts';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AuthStore } from '../api/auth.js';
import { ApiClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { type RunSelection, SqlEditor, type SqlEditorHandle } from '../editor/SqlEditor.js';
import { AccountMenu } from '../features/account/AccountMenu.js';
import { ExercisePage, isExercisePage, LazyExercisePane } from '../features/exercises/ExercisePages.js';
import { ExercisesApi } from '../features/exercises/exercises-api.js';
import { useExerciseBuffer } from '../features/exercises/use-exercise-buffer.js';
import type { ExercisePaneHandle } from '../features/exercises/views.js';
import { useExplain } from '../features/explain/use-explain.js';
import { HistoryPanel } from '../features/history/HistoryPanel.js';
import { addHistory, type HistoryEntry, historyEntryOf, loadHistory } from '../features/history/history.js';
import { ProjectPanel } from '../features/projects/ProjectPanel.js';
import { useProjectWorkspace } from '../features/projects/use-project-workspace.js';
import { LiveRunPanel } from '../features/run/RunPanel.js';
import type { RunView } from '../features/run/run-model.js';
import { type RunMode, useRunner } from '../features/run/use-runner.js';
import { SchemaPanel } from '../features/schema/SchemaPanel.js';
import { changesSchema } from '../features/schema/schema-model.js';
import { useSessionSchema } from '../features/schema/use-session-schema.js';
import { ShareBanner, type SharedView } from '../features/share/ShareBanner.js';
import { SharePanel, type SharePanelHandle } from '../features/share/SharePanel.js';
import { bufferOfShare, runViewOfShared, sharedResultsOf, shareIdOfPath } from '../features/share/share-link.js';
import { EDITOR_PANEL_ID, TabBar, tabElementId } from '../features/tabs/TabBar.js';
import { addTab, closeTab, renameTab, updateTab } from '../features/tabs/tabs.js';
import { useSavedTabs } from '../features/tabs/use-saved-tabs.js';
import { afterThisTask } from './after-this-task.js';
import { ProblemsBar } from './ProblemsBar.js';
import { type Problem, planFilesOf, problemOfRejection, problemOfRun } from './plan-markers.js';
import { usePlanWhileTyping } from './plan-while-typing.js';
import { ResultsPane } from './ResultsPane.js';
import { linkProps, useRoute } from './route.js';
import { loadSessionId, newSessionId } from './session.js';
import { Toolbar } from './Toolbar.js';
import { useTheme } from './theme.js';
import { useStableCallback } from './use-stable-callback.js';

const STARTER = `-- Tail: the state every run starts from (cached as a layer). Head: below the marker, what runs now.
CREATE TABLE fruits (id int PRIMARY KEY, name text, price numeric(6,2));
INSERT INTO fruits VALUES (1, 'apple', 0.50), (2, 'pear', 0.75), (3, 'plum', NULL);
-- @head
SELECT * FROM fruits ORDER BY id;
`;
/** Finished runs whose results stay re-openable from history (rows can be many: keep few). */
const RECENT_RUNS_KEPT = 5;
/** Where the runs and plans of a shared link's read-only SQL are kept: it is no tab of the learner's. */
const SHARED_VIEW = 'shared';
const NO_PROBLEMS: Problem[] = [];

/** The editor page: tabs and Monaco on the left, run state, schema and history on the right, results below. */
export function App() {
  const auth = useMemo(() => new AuthStore(), []);
  const api = useMemo(() => new ApiClient(auth), [auth]);
  const [authState, setAuthState] = useState(auth.current);
  const [theme, setTheme] = useTheme();
  const [route, navigate] = useRoute();
  const exercises = useMemo(() => new ExercisesApi(api), [api]);
  const exerciseId = route.page === 'exercise' ? route.id : undefined;
  const exercisePane = useRef<ExercisePaneHandle>(null);
  const [exerciseMode, setExerciseMode] = useState<RunMode>('tail');
  const [sessionId, setSessionId] = useState(loadSessionId);
  // Another window changed the text of the tab shown here: the editor shows it (as one undoable edit).
  const { tabs, setTabs, editText, notKept } = useSavedTabs(STARTER, (tabId, changed) => {
    if (tabId === viewId) editor.current?.setText(changed);
  });
  /** The learner has read that the tabs are not being kept (storage full): it is said once. */
  const [notKeptRead, setNotKeptRead] = useState(false);
  const [history, setHistory] = useState(loadHistory);
  /** Per view (tab, exercise, shared link), the problems its last run or plan found: they mark that view's buffer. */
  const [problemsByView, setProblemsByView] = useState<Record<string, Problem[]>>({});
  const setProblemsOf = useCallback(
    (id: string, next: Problem[]) =>
      setProblemsByView((p) => ((p[id]?.length ?? 0) === 0 && next.length === 0 ? p : { ...p, [id]: next })),
    [],
  );
  /** Per tab, whether the results pane shows the last run or the last plan. */
  const [panes, setPanes] = useState<Record<string, 'results' | 'plan'>>({});
  // A share page (`/s/{id}`) opens the link's SQL read-only instead of the tabs (ADR 0027).
  const [shared, setShared] = useState<SharedView | null>(() => {
    const id = shareIdOfPath(window.location.pathname);
    return id ? { state: 'loading', id } : null;
  });
  const [sharedText, setSharedText] = useState('');
  /** The results a link carries (its owner chose to include them), shown until the learner's own run. */
  const [sharedResults, setSharedResults] = useState<{ results: SharedResults; head: string } | null>(null);
  const sharePanel = useRef<SharePanelHandle>(null);
  const editor = useRef<SqlEditorHandle>(null);
  const recent = useRef(new Map<string, RunView>());
  const active = tabs.tabs.find((t) => t.id === tabs.activeId) ?? tabs.tabs[0];
  const activeId = active?.id ?? '';
  /** The shared link's SQL is shown instead of a tab until the learner edits a copy of it. */
  const sharedShown = exerciseId === undefined && shared !== null && !(shared.state === 'open' && !shared.readOnly);
  const exerciseBuffer = useExerciseBuffer(exerciseId, editor);
  // An exercise has a buffer of its own (its start state as the tail), beside the tabs, like a shared link.
  const viewId = exerciseId ? `exercise:${exerciseId}` : sharedShown ? SHARED_VIEW : activeId;
  const text = exerciseId ? exerciseBuffer.text : sharedShown ? sharedText : (active?.text ?? '');
  const mode: RunMode = exerciseId ? exerciseMode : (active?.mode ?? 'tail');

  useEffect(() => auth.subscribe(setAuthState), [auth]);
  useEffect(() => {
    // The first visit signs in without a form.
    void auth.token().catch(() => undefined);
  }, [auth]);
  const runProblems = problemsByView[viewId] ?? NO_PROBLEMS;

  const sharedId = shared?.id;
  useEffect(() => {
    if (!sharedId) return;
    const controller = new AbortController();
    api.openShare(sharedId, controller.signal).then(
      (share) => {
        editor.current?.setText(bufferOfShare(share));
        setShared({
          state: 'open',
          id: sharedId,
          readOnly: true,
          expiresAt: share.expiresAt,
          withResults: share.results !== undefined,
        });
        if (share.results) setSharedResults({ results: share.results, head: share.head });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setShared({ state: 'missing', id: sharedId });
        if (!(error instanceof ApiError)) console.error(error);
      },
    );
    return () => controller.abort();
  }, [api, sharedId]);
  /** The link whose state runs start from: the shared SQL as it was shown, unedited. */
  const runsFromShare = sharedShown && shared?.state === 'open' && shared.readOnly ? shared.id : undefined;
  const editShared = () => {
    if (shared?.state !== 'open') return;
    // The learner's copy becomes a tab of its own; the link's SQL is left as it was.
    const next = addTab(tabs, editor.current?.getText() ?? sharedText);
    if (next === tabs) {
      window.alert('Close one of your tabs first: the copy opens in a tab of its own.');
      return;
    }
    setTabs(renameTab(next, next.activeId, 'Shared'));
    setShared({ ...shared, readOnly: false });
    // A reload now keeps the learner's copy rather than opening the link again.
    window.history.replaceState(null, '', '/');
  };

  const { schema, loading: schemaLoading, refresh: refreshSchema } = useSessionSchema(api, sessionId);

  const onFinished = useCallback(
    (run: RunView, tabId: string) => {
      // The run cleared its tab's problems as it started; a rejected run (422) has set its own in onRejected.
      // They mark the tab the run was started in, shown or not.
      const problem = problemOfRun(run);
      if (problem) setProblemsOf(tabId, [problem]);
      setHistory(addHistory(historyEntryOf(run)));
      // The last few runs keep their rows in memory, so re-opening one from history shows its results again.
      recent.current.set(run.localId, run);
      for (const id of [...recent.current.keys()].slice(0, -RECENT_RUNS_KEPT)) recent.current.delete(id);
      if (run.sessionId && changesSchema(run)) refreshSchema(run.sessionId);
    },
    [refreshSchema, setProblemsOf],
  );
  const planWhileTyping = usePlanWhileTyping(api, text);
  const runner = useRunner(api, {
    onFinished,
    onRejected: ({ error, input, tabId }) => {
      const problem = problemOfRejection(error, input, 'run');
      setProblemsOf(tabId, problem ? [problem] : []);
    },
  });
  const explainer = useExplain(api, (error, input, tabId) => {
    const problem = problemOfRejection(
      error,
      { tail: input.tail, head: input.statement, headOffset: input.headOffset },
      'explain',
    );
    setProblemsOf(tabId, problem ? [problem] : []);
  });
  const projects = useProjectWorkspace({
    api,
    accountId: authState?.accountId,
    tabs,
    setTabs,
    editor,
    shownTabId: viewId,
    sessionId,
    renewSession: () => {
      const fresh = newSessionId();
      setSessionId(fresh);
      return fresh;
    },
    showRun: runner.show,
    onRunFinished: onFinished,
  });
  const explain = explainer.explainOf(viewId);
  const pane = panes[viewId] ?? 'results';
  const showPane = useCallback(
    (id: string, next: 'results' | 'plan') => setPanes((p) => (p[id] === next ? p : { ...p, [id]: next })),
    [],
  );
  const startRun = runner.start;
  const showRun = runner.show;
  useEffect(() => {
    if (sharedResults) showRun(SHARED_VIEW, runViewOfShared(sharedResults.results, sharedResults.head));
  }, [sharedResults, showRun]);

  const answeredByRun = planWhileTyping.answeredByRun;
  const runSelection = useCallback(
    async (selection: RunSelection) => {
      performance.mark('taidon:run-requested');
      // The request leaves first (startRun calls fetch before it awaits); the page's own updates are made in the
      // task after this one: a key press whose handler changed the page would make Chromium hold the reply for a
      // frame (DeferRendererTasksAfterInput).
      const started = startRun({ ...selection, sessionId, mode, shareId: runsFromShare }, viewId);
      afterThisTask(() => {
        setProblemsOf(viewId, []);
        showPane(viewId, 'results');
      });
      // A run of the whole buffer from its tail checks all of it: a plan of the same text would say nothing new.
      const buffer = editor.current?.getText() ?? '';
      const whole = planFilesOf(buffer).parts;
      const sendsTail = mode === 'tail' && selection.tail === whole.tail;
      if (!runsFromShare && selection.head === whole.head && (whole.tail.trim() === '' || sendsTail)) {
        answeredByRun(buffer);
      }
      try {
        await started;
      } catch (error) {
        // The session belongs to an account this browser no longer holds (a new anonymous sign-in): start a new one.
        if (error instanceof ApiError && error.code === 'SQL_RUNNER_SESSION_NOT_FOUND') {
          const fresh = newSessionId();
          setSessionId(fresh);
          await startRun({ ...selection, sessionId: fresh, mode, shareId: runsFromShare }, viewId);
        }
      }
    },
    [startRun, showPane, answeredByRun, sessionId, mode, runsFromShare, viewId, setProblemsOf],
  );

  const explainSelection = (selection: RunSelection) => {
    setProblemsOf(viewId, []);
    showPane(viewId, 'plan');
    // The plan runs on the state a run of this tab would start from: the link's, the tail's, or the session's.
    let runTail: RunRequest['tail'];
    if (runsFromShare) runTail = { share: runsFromShare };
    else if (mode === 'tail' && selection.tail.trim() !== '') {
      runTail = { files: [{ path: 'tail.sql', sql: selection.tail }] };
    }
    void explainer.start(viewId, {
      statement: selection.head,
      tail: selection.tail,
      headOffset: selection.headOffset,
      sessionId,
      runTail,
    });
  };
  const explainAtCursor = () => {
    const selection = editor.current?.statementAtCursor();
    if (selection) explainSelection(selection);
  };

  const onChange = useCallback(
    (value: string) => {
      if (exerciseId) return exerciseBuffer.edit(value);
      if (sharedShown) return setSharedText(value);
      editText(activeId, value);
    },
    [exerciseId, exerciseBuffer.edit, sharedShown, activeId, editText],
  );

  const problems = useMemo(
    () => [...planWhileTyping.problems, ...runProblems],
    [planWhileTyping.problems, runProblems],
  );

  const runHead = () => {
    const { parts } = planFilesOf(editor.current?.getText() ?? '');
    void runSelection({ tail: parts.tail, head: parts.head, headOffset: parts.headOffset });
  };

  // Ctrl/Cmd+Enter and Ctrl/Cmd+E also work when the focus is outside the editor (results, history).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey)) return;
      if ((event.target as HTMLElement | null)?.closest('.editor-host')) return;
      if (event.key === 'Enter' && event.altKey) {
        // Ctrl/Cmd+Alt+Enter submits an exercise's answer; it never runs.
        event.preventDefault();
        exercisePane.current?.submit();
      } else if (event.key === 'Enter') {
        event.preventDefault();
        runHead();
      } else if (event.key.toLowerCase() === 'e' && !event.shiftKey && !event.altKey) {
        event.preventDefault();
        explainAtCursor();
      }
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
    sharePanel.current?.share(
      tail ? { tail, head: parts.head } : { head: parts.head },
      sharedResultsOf(runner.runOf(viewId), parts),
    );
  };
  const reset = () => {
    setSessionId(newSessionId());
    editor.current?.focus();
  };
  const openHistory = (entry: HistoryEntry) => {
    editor.current?.setText(entry.tail ? `${entry.tail}\n-- @head\n${entry.head}` : entry.head);
    const kept = recent.current.get(entry.id);
    if (kept) {
      runner.show(viewId, kept);
      showPane(viewId, 'results');
    }
    editor.current?.focus();
  };
  const close = (id: string) => {
    if (projects.files.dirty.has(id) && !window.confirm('This file has unsaved changes: close it anyway?')) return;
    runner.forget(id);
    explainer.forget(id);
    editor.current?.forgetBuffer(id);
    setProblemsByView(({ [id]: _closed, ...rest }) => rest);
    setTabs((s) => closeTab(s, id));
  };
  // Stable identities: the memoized editor and panels do not render again while a run streams in.
  const onEditorRun = useStableCallback((selection: RunSelection) => void runSelection(selection));
  const onEditorExplain = useStableCallback(explainSelection);
  const onInsertName = useStableCallback((name: string) => editor.current?.insertAtCursor(name));
  const onRefreshSchema = useStableCallback(() => refreshSchema(sessionId));
  const onOpenHistory = useStableCallback(openHistory);
  const onEditorSubmit = useStableCallback(() => exercisePane.current?.submit());
  const onExerciseProblems = useStableCallback((next: Problem[]) => setProblemsOf(viewId, next));
  const onCancelRun = useStableCallback(() => void runner.cancel(viewId));
  const onPane = useStableCallback((next: 'results' | 'plan') => showPane(viewId, next));
  const exercisePage = isExercisePage(route);
  const tabsShown = !sharedShown && !exerciseId;
  const running = new Set(tabs.tabs.filter((t) => runner.runOf(t.id)?.status === 'running').map((t) => t.id));

  return (
    <div className="app">
      <header className="topbar">
        <h1>Taidon</h1>
        <nav className="pages" aria-label="Pages">
          <a {...linkProps('/', navigate)} aria-current={route.page === 'editor' ? 'page' : undefined}>
            Editor
          </a>
          <a
            {...linkProps('/exercises', navigate)}
            aria-current={route.page === 'editor' ? undefined : 'page'}
            data-testid="exercises-link"
          >
            Exercises
          </a>
        </nav>
        {!exercisePage && (
          <Toolbar
            editor={editor}
            mode={mode}
            onMode={(next) =>
              exerciseId ? setExerciseMode(next) : setTabs((s) => updateTab(s, activeId, { mode: next }))
            }
            onRunHead={runHead}
            onExplain={explainAtCursor}
            onReset={reset}
            onShare={share}
          />
        )}
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
      {exercisePage ? (
        <ExercisePage route={route} exercises={exercises} account={authState} navigate={navigate} />
      ) : (
        <main className={exerciseId ? 'workspace with-exercise' : 'workspace'}>
          {exerciseId && (
            <LazyExercisePane
              // Read again when the account changes: a sign-in may make the reader its author.
              key={`${exerciseId}:${authState?.accountId ?? ''}`}
              ref={exercisePane}
              exercises={exercises}
              id={exerciseId}
              getAnswer={exerciseBuffer.getAnswer}
              onLoaded={exerciseBuffer.onLoaded}
              onProblems={onExerciseProblems}
              navigate={navigate}
            />
          )}
          <div className="editor-pane">
            {shared && !exerciseId && <ShareBanner view={shared} onEdit={editShared} />}
            {tabsShown && notKept && !notKeptRead && (
              <div className="notice tabs-not-kept" role="status" data-testid="tabs-not-kept">
                This browser's storage is full: your tabs are not being kept across reloads. Close tabs or clear this
                site's data to keep them.{' '}
                <button type="button" onClick={() => setNotKeptRead(true)}>
                  Dismiss
                </button>
              </div>
            )}
            {tabsShown && (
              <TabBar
                tabs={tabs.tabs}
                activeId={activeId}
                running={running}
                dirty={projects.files.dirty}
                onSelect={(id) => setTabs((s) => ({ ...s, activeId: id }))}
                onNew={() => setTabs((s) => addTab(s))}
                onClose={close}
                onRename={(id, name) => setTabs((s) => renameTab(s, id, name))}
              />
            )}
            <div
              className="editor-panel"
              // The panel the tabs control; a shared link or an exercise shows the editor without tabs.
              {...(tabsShown
                ? { role: 'tabpanel', id: EDITOR_PANEL_ID, 'aria-labelledby': tabElementId(activeId) }
                : {})}
            >
              <SqlEditor
                bufferKey={viewId}
                ref={editor}
                initialText={text}
                theme={theme}
                markers={problems}
                readOnly={(sharedShown && shared?.state === 'loading') || runsFromShare !== undefined}
                onChange={onChange}
                onRun={onEditorRun}
                onExplain={onEditorExplain}
                onSubmit={exerciseId ? onEditorSubmit : undefined}
              />
            </div>
            <ProblemsBar problems={problems} planSummary={planWhileTyping.summary} text={text} />
          </div>
          <aside className="sidebar">
            <LiveRunPanel store={runner.store} tabId={viewId} onCancel={onCancelRun} />
            {/* Beside an exercise the editor holds the exercise's buffer, not a tab a project file could be bound to. */}
            {!exerciseId && <ProjectPanel workspace={projects} />}
            <SchemaPanel schema={schema} loading={schemaLoading} onInsert={onInsertName} onRefresh={onRefreshSchema} />
            <HistoryPanel entries={history} sessionId={sessionId} onOpen={onOpenHistory} />
          </aside>
          <ResultsPane runs={runner.store} tabId={viewId} text={text} explain={explain} pane={pane} onPane={onPane} />
        </main>
      )}
    </div>
  );
}
