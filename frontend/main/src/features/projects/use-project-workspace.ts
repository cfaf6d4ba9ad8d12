import { type Dispatch, type RefObject, type SetStateAction, useCallback, useMemo } from 'react';
import type { ApiClient } from '../../api/client.js';
import { planFilesOf } from '../../app/plan-markers.js';
import type { SqlEditorHandle } from '../../editor/SqlEditor.js';
import type { RunView } from '../run/run-model.js';
import type { TabsState } from '../tabs/tabs.js';
import { ProjectsApi } from './projects-api.js';
import { useProjectFiles } from './use-project-files.js';
import { useProjectRun } from './use-project-run.js';
import { useProjects } from './use-projects.js';

interface Options {
  api: ApiClient;
  accountId: string | undefined;
  tabs: TabsState;
  setTabs: Dispatch<SetStateAction<TabsState>>;
  editor: RefObject<SqlEditorHandle | null>;
  /** The tab whose buffer the editor shows now (another id beside an exercise or a share). */
  shownTabId: string;
  sessionId: string;
  renewSession(): string;
  /** The page runner's `show`: a project run's view appears as the tab's run. */
  showRun(tabId: string, view: RunView): void;
  onRunFinished(view: RunView, tabId: string): void;
}

/**
 * Everything the editor needs for projects, in one place so the page only
 * wires it: the panel's state, files open in tabs (dirty set, Ctrl/Cmd+S),
 * and "Run on project state" for the shown tab.
 */
export function useProjectWorkspace(options: Options) {
  const { api, accountId, tabs, setTabs, editor, shownTabId, sessionId, renewSession, showRun, onRunFinished } =
    options;
  const projectsApi = useMemo(() => new ProjectsApi(api), [api]);
  const files = useProjectFiles({
    projects: projectsApi,
    tabs,
    setTabs,
    editor,
    shownTabId,
    onCommitted: (id) => state.committed(id),
  });
  const state = useProjects(
    projectsApi,
    accountId,
    (id, versions) => void files.syncWithTree(id, versions),
    (id, path) => (path ? files.forgetFile(id, path) : files.forgetProject(id)),
  );
  const run = useProjectRun(api, showRun, { onFinished: onRunFinished, renewSession });
  const activeId = tabs.activeId;
  const runOnProject = useCallback(
    (projectId: string) => {
      const { parts } = planFilesOf(editor.current?.getText() ?? '');
      void run({ projectId, head: parts.head, headOffset: parts.headOffset, sessionId }, activeId);
    },
    [editor, run, sessionId, activeId],
  );
  return { projectsApi, state, files, runOnProject, activeTabId: activeId, activeFile: files.bindings[activeId] };
}

/** What the project panel is given. */
export type ProjectWorkspace = ReturnType<typeof useProjectWorkspace>;
