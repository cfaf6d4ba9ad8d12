import type { RunMode } from '../run/use-runner.js';

/** One editor tab: its own buffer and run mode (its results live in memory, see App). */
export interface EditorTab {
  id: string;
  name: string;
  text: string;
  mode: RunMode;
}

/** The tabs of this browser and which one is shown. */
export interface TabsState {
  tabs: EditorTab[];
  activeId: string;
}

const KEY = 'taidon.tabs';
/** The single buffer of the editor before tabs; read once, so a learner's text moves into the first tab. */
const LEGACY_BUFFER_KEY = 'taidon.buffer';
const LEGACY_MODE_KEY = 'taidon.mode';
/** Most tabs open at once. */
export const MAX_TABS = 12;
/** Most characters of one tab's buffer kept across reloads (localStorage holds ~5 MB per origin, shared with history). */
export const MAX_TAB_CHARS = 256 * 1024;
/** Longest tab name. */
export const MAX_TAB_NAME = 40;

const isMode = (value: unknown): value is RunMode => value === 'tail' || value === 'continue';

function tabOf(value: unknown, index: number): EditorTab | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || typeof v.text !== 'string') return null;
  return {
    id: v.id,
    name: typeof v.name === 'string' && v.name.trim() !== '' ? v.name.slice(0, MAX_TAB_NAME) : `Query ${index + 1}`,
    text: v.text.slice(0, MAX_TAB_CHARS),
    mode: isMode(v.mode) ? v.mode : 'tail',
  };
}

/** A new tab named after the first free "Query n". */
export function newTab(tabs: EditorTab[], text = '', mode: RunMode = 'tail'): EditorTab {
  const names = new Set(tabs.map((t) => t.name));
  let n = tabs.length + 1;
  for (let i = 1; i <= tabs.length + 1; i++) {
    if (!names.has(`Query ${i}`)) {
      n = i;
      break;
    }
  }
  return { id: crypto.randomUUID(), name: `Query ${n}`, text, mode };
}

/**
 * The tabs saved by the last visit; on the first visit, one tab holding the
 * pre-tabs buffer (or `starter`). Anything malformed is dropped, never thrown.
 */
export function loadTabs(starter: string, storage: Storage = localStorage): TabsState {
  try {
    const parsed = JSON.parse(storage.getItem(KEY) ?? 'null') as { tabs?: unknown; activeId?: unknown } | null;
    const tabs = (Array.isArray(parsed?.tabs) ? parsed.tabs : [])
      .slice(0, MAX_TABS)
      .map(tabOf)
      .filter((t): t is EditorTab => t !== null);
    if (tabs.length > 0) {
      const activeId = tabs.some((t) => t.id === parsed?.activeId) ? String(parsed?.activeId) : (tabs[0]?.id ?? '');
      return { tabs, activeId };
    }
  } catch {
    // A damaged entry starts over with one tab: nothing else in it can be trusted.
  }
  const legacyMode = storage.getItem(LEGACY_MODE_KEY);
  const first = newTab([], storage.getItem(LEGACY_BUFFER_KEY) ?? starter, isMode(legacyMode) ? legacyMode : 'tail');
  return { tabs: [first], activeId: first.id };
}

/** Saves the tabs, each buffer cut to MAX_TAB_CHARS; a full storage keeps the previous save rather than failing the edit. */
export function saveTabs(state: TabsState, storage: Storage = localStorage): void {
  const tabs = state.tabs.slice(0, MAX_TABS).map((t) => ({ ...t, text: t.text.slice(0, MAX_TAB_CHARS) }));
  try {
    storage.setItem(KEY, JSON.stringify({ tabs, activeId: state.activeId }));
  } catch {
    // Quota exceeded: the text is still in the editor; the next smaller save succeeds.
  }
}

/** Adds a tab after the others and shows it; at MAX_TABS, the state is returned unchanged. */
export function addTab(state: TabsState, text = ''): TabsState {
  if (state.tabs.length >= MAX_TABS) return state;
  const tab = newTab(state.tabs, text);
  return { tabs: [...state.tabs, tab], activeId: tab.id };
}

/** Closes a tab; the neighbour shows if it was shown; the last tab is replaced by an empty one. */
export function closeTab(state: TabsState, id: string): TabsState {
  const index = state.tabs.findIndex((t) => t.id === id);
  if (index < 0) return state;
  const tabs = state.tabs.filter((t) => t.id !== id);
  if (tabs.length === 0) {
    const fresh = newTab([]);
    return { tabs: [fresh], activeId: fresh.id };
  }
  const activeId =
    state.activeId === id ? (tabs[Math.min(index, tabs.length - 1)]?.id ?? tabs[0]?.id ?? '') : state.activeId;
  return { tabs, activeId };
}

/** Renames a tab (trimmed, at most MAX_TAB_NAME characters); an empty name keeps the old one. */
export function renameTab(state: TabsState, id: string, name: string): TabsState {
  const trimmed = name.trim().slice(0, MAX_TAB_NAME);
  if (trimmed === '') return state;
  return { ...state, tabs: state.tabs.map((t) => (t.id === id ? { ...t, name: trimmed } : t)) };
}

/** Changes one tab's fields (text, mode). */
export function updateTab(state: TabsState, id: string, change: Partial<Pick<EditorTab, 'text' | 'mode'>>): TabsState {
  return { ...state, tabs: state.tabs.map((t) => (t.id === id ? { ...t, ...change } : t)) };
}
