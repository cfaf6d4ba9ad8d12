import type { RunMode } from '../run/use-runner.js';

/** One editor tab: its own buffer and run mode (its results live in memory, see App). */
export interface EditorTab {
  id: string;
  name: string;
  text: string;
  mode: RunMode;
  /** When its text, name or mode last changed (ms since the epoch): between windows, the later change wins. */
  editedAt: number;
}

/** The tabs of this window and which one is shown. */
export interface TabsState {
  tabs: EditorTab[];
  activeId: string;
  /** Tabs closed (id → when, ms), so another window's save does not bring them back (see tabs-merge). */
  closed: Record<string, number>;
}

/** The localStorage key every window of the origin saves its tabs under (the `storage` event names it). */
export const TABS_KEY = 'taidon.tabs';
const KEY = TABS_KEY;
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
    editedAt: typeof v.editedAt === 'number' && Number.isFinite(v.editedAt) ? v.editedAt : 0,
  };
}

/** Most closed tabs remembered (the newest): enough for every window's recent closes, never a growing list. */
export const MAX_CLOSED_KEPT = 64;

/** The closed tabs of a saved entry, newest MAX_CLOSED_KEPT, anything malformed dropped. */
export function closedOf(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {};
  const entries = Object.entries(value as Record<string, unknown>).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
  );
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_CLOSED_KEPT));
}

/** Reads a saved entry (this window's or another's): its tabs and closed ones, or null when it holds none. */
export function parseSavedTabs(json: string | null): TabsState | null {
  try {
    const parsed = JSON.parse(json ?? 'null') as { tabs?: unknown; activeId?: unknown; closed?: unknown } | null;
    const tabs = (Array.isArray(parsed?.tabs) ? parsed.tabs : [])
      .slice(0, MAX_TABS)
      .map(tabOf)
      .filter((t): t is EditorTab => t !== null);
    if (tabs.length === 0) return null;
    const activeId = tabs.some((t) => t.id === parsed?.activeId) ? String(parsed?.activeId) : (tabs[0]?.id ?? '');
    return { tabs, activeId, closed: closedOf(parsed?.closed) };
  } catch {
    // A damaged entry is no entry: nothing in it can be trusted.
    return null;
  }
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
  return { id: crypto.randomUUID(), name: `Query ${n}`, text, mode, editedAt: Date.now() };
}

/**
 * The tabs saved by the last visit; on the first visit, one tab holding the
 * pre-tabs buffer (or `starter`). Anything malformed is dropped, never thrown.
 */
export function loadTabs(starter: string, storage: Storage = localStorage): TabsState {
  const saved = parseSavedTabs(storage.getItem(KEY));
  if (saved) return saved;
  const legacyMode = storage.getItem(LEGACY_MODE_KEY);
  const first = newTab([], storage.getItem(LEGACY_BUFFER_KEY) ?? starter, isMode(legacyMode) ? legacyMode : 'tail');
  return { tabs: [first], activeId: first.id, closed: {} };
}

/**
 * Saves the tabs, each buffer cut to MAX_TAB_CHARS. A full storage keeps the
 * previous save rather than failing the edit: the answer is false, for the
 * page to tell the learner that the tabs are not being kept.
 */
export function saveTabs(state: TabsState, storage: Storage = localStorage): boolean {
  const tabs = state.tabs.slice(0, MAX_TABS).map((t) => ({ ...t, text: t.text.slice(0, MAX_TAB_CHARS) }));
  try {
    storage.setItem(KEY, JSON.stringify({ tabs, activeId: state.activeId, closed: closedOf(state.closed) }));
    return true;
  } catch {
    // Quota exceeded: the text is still in the editor; the next smaller save may succeed.
    return false;
  }
}

/** Adds a tab after the others and shows it; at MAX_TABS, the state is returned unchanged. */
export function addTab(state: TabsState, text = ''): TabsState {
  if (state.tabs.length >= MAX_TABS) return state;
  const tab = newTab(state.tabs, text);
  return { ...state, tabs: [...state.tabs, tab], activeId: tab.id };
}

/** Closes a tab; the neighbour shows if it was shown; the last tab is replaced by an empty one. */
export function closeTab(state: TabsState, id: string): TabsState {
  const index = state.tabs.findIndex((t) => t.id === id);
  if (index < 0) return state;
  const tabs = state.tabs.filter((t) => t.id !== id);
  const closed = closedOf({ ...state.closed, [id]: Date.now() });
  if (tabs.length === 0) {
    const fresh = newTab([]);
    return { tabs: [fresh], activeId: fresh.id, closed };
  }
  const activeId =
    state.activeId === id ? (tabs[Math.min(index, tabs.length - 1)]?.id ?? tabs[0]?.id ?? '') : state.activeId;
  return { tabs, activeId, closed };
}

/** Renames a tab (trimmed, at most MAX_TAB_NAME characters); an empty name keeps the old one. */
export function renameTab(state: TabsState, id: string, name: string): TabsState {
  const trimmed = name.trim().slice(0, MAX_TAB_NAME);
  if (trimmed === '') return state;
  return updateTab(state, id, { name: trimmed });
}

/** Changes one tab's fields (text, name, mode); a change to what it already holds is none (the same state). */
export function updateTab(
  state: TabsState,
  id: string,
  change: Partial<Pick<EditorTab, 'text' | 'name' | 'mode'>>,
): TabsState {
  const tab = state.tabs.find((t) => t.id === id);
  if (!tab || Object.entries(change).every(([k, v]) => tab[k as keyof EditorTab] === v)) return state;
  const changed = { ...tab, ...change, editedAt: Date.now() };
  return { ...state, tabs: state.tabs.map((t) => (t.id === id ? changed : t)) };
}
