import { useCallback, useEffect, useRef, useState } from 'react';
import { loadTabs, parseSavedTabs, saveTabs, TABS_KEY, type TabsState, updateTab } from './tabs.js';
import { mergeTabs } from './tabs-merge.js';

/** Tabs are saved this long after the last change (a save writes every tab's buffer). */
const SAVE_DELAY_MS = 300;

/**
 * The editor tabs, loaded once and saved to localStorage 300 ms after each
 * change; a reload within the delay still keeps the last keystroke, written
 * on `pagehide`. Another window's save is taken in as it happens (merged per
 * tab, see tabs-merge); `onOutsideText` hears of a tab whose text it changed,
 * so the editor shows it. `notKept` turns true when a save did not fit.
 */
export function useSavedTabs(starter: string, onOutsideText: (tabId: string, text: string) => void) {
  const [tabs, setTabs] = useState(() => loadTabs(starter));
  const [notKept, setNotKept] = useState(false);
  const latest = useRef<TabsState>(tabs);
  latest.current = tabs;
  const outside = useRef(onOutsideText);
  outside.current = onOutsideText;
  const lastEdit = useRef<{ id: string; text: string } | null>(null);
  /** Saves over what other windows saved since (their tabs merged in first), so none of theirs is lost. */
  const save = useCallback((state: TabsState) => {
    const stored = parseSavedTabs(localStorage.getItem(TABS_KEY));
    const kept = saveTabs(stored ? mergeTabs(state, stored) : state);
    setNotKept((was) => was || !kept);
  }, []);
  useEffect(() => {
    const timer = setTimeout(() => save(tabs), SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [tabs, save]);
  useEffect(() => {
    const flush = () => {
      const edit = lastEdit.current;
      save(edit ? updateTab(latest.current, edit.id, { text: edit.text }) : latest.current);
    };
    const onStorage = (event: StorageEvent) => {
      if (event.storageArea !== localStorage || event.key !== TABS_KEY) return;
      const theirs = parseSavedTabs(event.newValue);
      if (!theirs) return;
      const before = latest.current;
      const merged = mergeTabs(before, theirs);
      if (merged === before) return;
      latest.current = merged;
      setTabs(merged);
      const shown = merged.tabs.find((t) => t.id === merged.activeId);
      const was = before.tabs.find((t) => t.id === merged.activeId);
      if (shown && shown.text !== was?.text) outside.current(shown.id, shown.text);
    };
    window.addEventListener('pagehide', flush);
    window.addEventListener('storage', onStorage);
    return () => {
      window.removeEventListener('pagehide', flush);
      window.removeEventListener('storage', onStorage);
    };
  }, [save]);
  /** A keystroke in a tab's buffer. */
  const editText = useCallback((id: string, text: string) => {
    lastEdit.current = { id, text };
    setTabs((s) => updateTab(s, id, { text }));
  }, []);
  return { tabs, setTabs, editText, notKept };
}
