import { useCallback, useEffect, useRef, useState } from 'react';
import { loadTabs, saveTabs, type TabsState, updateTab } from './tabs.js';

/** Tabs are saved this long after the last change (a save writes every tab's buffer). */
const SAVE_DELAY_MS = 300;

/**
 * The editor tabs, loaded once and saved to localStorage 300 ms after each
 * change; a reload within the delay still keeps the last keystroke, written
 * on `pagehide`.
 */
export function useSavedTabs(starter: string) {
  const [tabs, setTabs] = useState(() => loadTabs(starter));
  const latest = useRef<TabsState>(tabs);
  latest.current = tabs;
  const lastEdit = useRef<{ id: string; text: string } | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => saveTabs(tabs), SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [tabs]);
  useEffect(() => {
    const flush = () => {
      const edit = lastEdit.current;
      saveTabs(edit ? updateTab(latest.current, edit.id, { text: edit.text }) : latest.current);
    };
    window.addEventListener('pagehide', flush);
    return () => window.removeEventListener('pagehide', flush);
  }, []);
  /** A keystroke in a tab's buffer. */
  const editText = useCallback((id: string, text: string) => {
    lastEdit.current = { id, text };
    setTabs((s) => updateTab(s, id, { text }));
  }, []);
  return { tabs, setTabs, editText };
}
