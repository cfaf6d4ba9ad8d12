import { describe, expect, it } from 'vitest';
import {
  addTab,
  closeTab,
  type EditorTab,
  loadTabs,
  MAX_TAB_CHARS,
  MAX_TABS,
  renameTab,
  saveTabs,
  type TabsState,
  updateTab,
} from './tabs.js';
import { mergeTabs } from './tabs-merge.js';

/** localStorage's contract, in memory. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  constructor(private readonly quotaChars = Number.POSITIVE_INFINITY) {}
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    if (value.length > this.quotaChars) throw new DOMException('full', 'QuotaExceededError');
    this.items.set(key, value);
  }
}

describe('editor tabs', () => {
  it('moves the buffer and mode of the editor before tabs into the first tab', () => {
    const storage = new MemoryStorage();
    storage.setItem('taidon.buffer', 'SELECT 1;');
    storage.setItem('taidon.mode', 'continue');
    const state = loadTabs('starter', storage);
    expect(state.tabs).toEqual([
      { id: state.activeId, name: 'Query 1', text: 'SELECT 1;', mode: 'continue', editedAt: expect.any(Number) },
    ]);
  });

  it('keeps buffers, modes, names and the shown tab across a save and a load', () => {
    const storage = new MemoryStorage();
    let state = loadTabs('SELECT 1;', storage);
    state = addTab(state, 'SELECT 2;');
    const second = state.activeId;
    state = renameTab(state, second, '  orders report  ');
    state = updateTab(state, second, { mode: 'continue', text: 'SELECT 3;' });
    saveTabs(state, storage);
    const loaded = loadTabs('unused', storage);
    expect(loaded).toEqual(state);
    expect(loaded.tabs.map((t) => [t.name, t.text, t.mode])).toEqual([
      ['Query 1', 'SELECT 1;', 'tail'],
      ['orders report', 'SELECT 3;', 'continue'],
    ]);
    expect(loaded.activeId).toBe(second);
  });

  it('bounds what it keeps: tab count, buffer length, name length', () => {
    let state: TabsState = loadTabs('', new MemoryStorage());
    for (let i = 0; i < MAX_TABS + 3; i++) state = addTab(state);
    expect(state.tabs).toHaveLength(MAX_TABS);
    state = updateTab(state, state.activeId, { text: 'x'.repeat(MAX_TAB_CHARS + 10) });
    state = renameTab(state, state.activeId, 'n'.repeat(100));
    const storage = new MemoryStorage();
    saveTabs(state, storage);
    const loaded = loadTabs('', storage);
    expect(loaded.tabs.find((t) => t.id === state.activeId)?.text).toHaveLength(MAX_TAB_CHARS);
    expect(loaded.tabs.find((t) => t.id === state.activeId)?.name).toHaveLength(40);
  });

  it('keeps the previous save when storage is full (and says so), and starts over from a damaged entry', () => {
    const storage = new MemoryStorage(1_000);
    const state = loadTabs('SELECT 1;', storage);
    expect(saveTabs(state, storage)).toBe(true);
    expect(saveTabs(updateTab(state, state.activeId, { text: 'y'.repeat(2_000) }), storage)).toBe(false);
    expect(loadTabs('', storage).tabs[0]?.text).toBe('SELECT 1;');
    storage.setItem('taidon.tabs', '{not json');
    expect(loadTabs('starter', storage).tabs.map((t) => t.text)).toEqual(['starter']);
  });

  it('shows the neighbour of a closed tab and never leaves none', () => {
    let state = loadTabs('a', new MemoryStorage());
    state = addTab(state, 'b');
    state = addTab(state, 'c');
    const [a, b, c] = state.tabs.map((t) => t.id) as [string, string, string];
    state = closeTab({ ...state, activeId: b }, b);
    expect(state.activeId).toBe(c);
    state = closeTab(state, c);
    expect(state.activeId).toBe(a);
    state = closeTab(state, a);
    expect(state.tabs).toHaveLength(1);
    expect(state.tabs[0]?.text).toBe('');
    expect(renameTab(state, state.activeId, '   ')).toEqual(state);
  });

  describe('two windows', () => {
    /** A tab as another window saved it, changed at `editedAt`. */
    const at = (state: TabsState, id: string, change: Partial<EditorTab>): TabsState => ({
      ...state,
      tabs: state.tabs.map((t) => (t.id === id ? { ...t, ...change } : t)),
    });

    it('takes in per tab the later change, and the tabs the other window opened after its own', () => {
      let ours = loadTabs('a', new MemoryStorage());
      ours = addTab(ours, 'b');
      const [a, b] = ours.tabs.map((t) => t.id) as [string, string];
      const theirs = addTab(at(ours, a, { text: 'a edited there', editedAt: Date.now() + 1_000 }), 'c');
      ours = at(ours, b, { text: 'b edited here', editedAt: Date.now() + 2_000 });
      const merged = mergeTabs(ours, theirs);
      expect(merged.tabs.map((t) => t.text)).toEqual(['a edited there', 'b edited here', 'c']);
      expect(merged.activeId).toBe(ours.activeId);
      // Nothing newer: the same state, so taking in a save saves nothing again.
      expect(mergeTabs(merged, merged)).toBe(merged);
      expect(mergeTabs(merged, theirs)).toBe(merged);
    });

    it('does not bring back a tab closed in one window from the older copy of the other, up to MAX_TABS', () => {
      let ours = loadTabs('a', new MemoryStorage());
      ours = addTab(ours, 'b');
      const b = ours.activeId;
      const theirs = { ...ours, tabs: ours.tabs.map((t) => ({ ...t, editedAt: t.editedAt - 10 })) };
      ours = closeTab(ours, b);
      expect(mergeTabs(ours, theirs).tabs.map((t) => t.text)).toEqual(['a']);
      expect(mergeTabs(theirs, ours).tabs.map((t) => t.text)).toEqual(['a']);
      // Both windows saved through one storage: the close is kept across a load.
      const storage = new MemoryStorage();
      saveTabs(mergeTabs(theirs, ours), storage);
      expect(loadTabs('', storage).closed[b]).toBeGreaterThan(0);
      let many = loadTabs('', new MemoryStorage());
      for (let i = 0; i < MAX_TABS; i++) many = addTab(many, `mine ${i}`);
      let other = loadTabs('', new MemoryStorage());
      for (let i = 0; i < 5; i++) other = addTab(other, `theirs ${i}`);
      expect(mergeTabs(many, other).tabs).toHaveLength(MAX_TABS);
    });
  });
});
