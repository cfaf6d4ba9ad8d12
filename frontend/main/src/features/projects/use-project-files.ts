import {
  type Dispatch,
  type RefObject,
  type SetStateAction,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError } from '../../api/errors.js';
import type { SqlEditorHandle } from '../../editor/SqlEditor.js';
import { type TabsState, updateTab } from '../tabs/tabs.js';
import {
  type FileBindings,
  isDirty,
  loadBindings,
  markSaved,
  markStale,
  openFile,
  outdatedTabs,
  pruneBindings,
  saveBindings,
  saveRefusal,
  tooLargeForTab,
  unbindFile,
} from './file-tabs.js';
import type { ProjectsApi } from './projects-api.js';

/** What the last save of a tab said, shown under the project panel's file tree. */
export interface SaveNotice {
  tabId: string;
  kind: 'saved' | 'stale' | 'error';
  text: string;
}

interface Options {
  projects: ProjectsApi;
  tabs: TabsState;
  setTabs: Dispatch<SetStateAction<TabsState>>;
  editor: RefObject<SqlEditorHandle | null>;
  /** The tab whose buffer the editor shows now (none beside an exercise or a share: another id). */
  shownTabId: string;
  /** A save made a commit: the tree and history of that project are new. */
  onCommitted(projectId: string): void;
}

/**
 * Project files open in editor tabs: opening, Ctrl/Cmd+S saving with the
 * version read (`If-Match`), dirty tabs, and a 412 kept as "changed
 * elsewhere" with the buffer untouched until the learner chooses.
 */
export function useProjectFiles({ projects, tabs, setTabs, editor, shownTabId, onCommitted }: Options) {
  const [bindings, setBindings] = useState<FileBindings>(loadBindings);
  const [notice, setNotice] = useState<SaveNotice | null>(null);
  const [saving, setSaving] = useState(false);
  const latest = useRef({ tabs, bindings, shownTabId });
  latest.current = { tabs, bindings, shownTabId };
  useEffect(() => saveBindings(bindings), [bindings]);
  const tabIds = tabs.tabs.map((t) => t.id).join(' ');
  useEffect(() => setBindings((b) => pruneBindings(b, tabIds.split(' '))), [tabIds]);

  /** Replaces a tab's buffer (through Monaco when it is shown, so its undo stack and the tabs agree). */
  const replaceText = useCallback(
    (tabId: string, text: string) => {
      if (latest.current.tabs.activeId === tabId) editor.current?.setText(text);
      setTabs((s) => updateTab(s, tabId, { text }));
    },
    [editor, setTabs],
  );

  const open = useCallback(
    async (projectId: string, path: string) => {
      const file = await projects.readFile(projectId, path);
      const refused = tooLargeForTab(path, file.text);
      if (refused) {
        window.alert(refused);
        return;
      }
      const opened = openFile(latest.current.tabs, latest.current.bindings, { projectId, path, ...file });
      if (!opened) {
        window.alert('Close one of your tabs first: a file opens in a tab of its own.');
        return;
      }
      setBindings(opened.bindings);
      setTabs(opened.tabs);
    },
    [projects, setTabs],
  );

  const save = useCallback(
    async (tabId: string, force = false) => {
      const binding = latest.current.bindings[tabId];
      if (!binding) return;
      // The shown tab's text is the editor's: its last edit may not have reached the tabs' state yet (Chromium
      // handles a key press before the render an edit scheduled, so Ctrl+S right after typing saved the text
      // before it and left the tab dirty).
      const shown = latest.current.shownTabId === tabId ? editor.current?.getText() : undefined;
      const text = shown ?? latest.current.tabs.tabs.find((t) => t.id === tabId)?.text ?? '';
      const refused = saveRefusal(binding, text);
      if (refused) {
        setNotice({ tabId, kind: 'error', text: `${refused} Nothing was saved.` });
        return;
      }
      setSaving(true);
      try {
        // Overwriting after a 412: based on the version there now, so the learner's text wins knowingly.
        const version = force ? (await projects.readFile(binding.projectId, binding.path)).version : binding.version;
        const change = await projects.writeFile(binding.projectId, binding.path, text, version);
        setBindings((b) => markSaved(b, tabId, change.version ?? version, text));
        setNotice({ tabId, kind: 'saved', text: `Saved ${binding.path} as ${change.commit.slice(0, 8)}.` });
        onCommitted(binding.projectId);
      } catch (error) {
        if (error instanceof ApiError && error.status === 412) {
          setBindings((b) => markStale(b, tabId));
          setNotice({
            tabId,
            kind: 'stale',
            text: `${binding.path} changed elsewhere since you opened it: your text is kept, nothing was saved.`,
          });
        } else {
          setNotice({ tabId, kind: 'error', text: error instanceof Error ? error.message : String(error) });
        }
      } finally {
        setSaving(false);
      }
    },
    [projects, editor, onCommitted],
  );

  /** Drops the buffer's edits for the file as it is on the server now. */
  const reload = useCallback(
    async (tabId: string) => {
      const binding = latest.current.bindings[tabId];
      if (!binding) return;
      const file = await projects.readFile(binding.projectId, binding.path);
      replaceText(tabId, file.text);
      setBindings((b) => markSaved(b, tabId, file.version, file.text));
      setNotice(null);
    },
    [projects, replaceText],
  );

  /** After a pull, merge or restore: clean tabs of the project take the new text, dirty ones are marked stale. */
  const syncWithTree = useCallback(
    async (projectId: string, versions: ReadonlyMap<string, string>) => {
      const { bindings: now, tabs: shown } = latest.current;
      const texts = new Map(shown.tabs.map((t) => [t.id, t.text]));
      const { reload: toReload, stale } = outdatedTabs(now, projectId, versions, texts);
      for (const tabId of stale) setBindings((b) => markStale(b, tabId));
      for (const tabId of toReload) await reload(tabId);
    },
    [reload],
  );

  // Ctrl/Cmd+S saves the shown file wherever the focus is (the browser's "save page" would be useless here).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== 's' || event.altKey) return;
      const tabId = latest.current.tabs.activeId;
      if (!latest.current.bindings[tabId]) return;
      event.preventDefault();
      void save(tabId);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [save]);

  /** A deleted project's tabs become plain queries: their text stays, no save can reach the project. */
  const forgetProject = useCallback(
    (projectId: string) => setBindings((b) => pruneBindings(b, Object.keys(b), projectId)),
    [],
  );

  /** The file was deleted: the tab holding it keeps its text as a plain query. */
  const forgetFile = useCallback(
    (projectId: string, path: string) => setBindings((b) => unbindFile(b, projectId, path)),
    [],
  );

  const dirty = useMemo(
    () => new Set(tabs.tabs.filter((t) => isDirty(bindings[t.id], t.text)).map((t) => t.id)),
    [tabs.tabs, bindings],
  );
  return { bindings, dirty, notice, saving, open, save, reload, syncWithTree, forgetProject, forgetFile };
}
