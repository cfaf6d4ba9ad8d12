import { describe, expect, it } from 'vitest';
import { loadTabs, MAX_TAB_CHARS, MAX_TABS, saveTabs, type TabsState } from '../tabs/tabs.js';
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
  tabNameOf,
  tooLargeForTab,
  unbindFile,
} from './file-tabs.js';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
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
    this.items.set(key, value);
  }
}

const oneTab = (): TabsState => ({
  tabs: [{ id: 'q1', name: 'Query 1', text: 'SELECT 1;', mode: 'tail', editedAt: 0 }],
  activeId: 'q1',
  closed: {},
});
const seed = { projectId: 'p1', path: 'seed/01-authors.sql', text: 'INSERT 1;', version: 'v1' };

describe('project files in tabs', () => {
  it('opens a file in a new tab named after its path, shown, bound to its version and text', () => {
    const opened = openFile(oneTab(), {}, seed);
    expect(opened).not.toBeNull();
    const { tabs, bindings } = opened as NonNullable<typeof opened>;
    expect(tabs.tabs).toHaveLength(2);
    const tab = tabs.tabs[1];
    expect(tab).toMatchObject({ name: 'seed/01-authors.sql', text: 'INSERT 1;' });
    expect(tabs.activeId).toBe(tab?.id);
    expect(bindings[tab?.id ?? '']).toEqual({
      projectId: 'p1',
      path: 'seed/01-authors.sql',
      version: 'v1',
      savedText: 'INSERT 1;',
    });
  });

  it('shows the tab that holds the file already, its edited buffer kept', () => {
    const first = openFile(oneTab(), {}, seed);
    if (!first) throw new Error('not opened');
    const fileTab = first.tabs.activeId;
    const edited: TabsState = {
      tabs: first.tabs.tabs.map((t) => (t.id === fileTab ? { ...t, text: 'INSERT 2;' } : t)),
      activeId: 'q1',
      closed: {},
    };
    const again = openFile(edited, first.bindings, { ...seed, text: 'INSERT 1;' });
    expect(again?.tabs.activeId).toBe(fileTab);
    expect(again?.tabs.tabs).toHaveLength(2);
    expect(again?.tabs.tabs.find((t) => t.id === fileTab)?.text).toBe('INSERT 2;');
  });

  it('never saves a cut copy: a file past what a tab keeps is neither opened nor saved over', () => {
    const big = 'x'.repeat(MAX_TAB_CHARS + 1);
    expect(tooLargeForTab('seed/big.sql', big)).toMatch(/more than a tab keeps/);
    expect(tooLargeForTab('seed/ok.sql', 'x'.repeat(MAX_TAB_CHARS))).toBeNull();
    // A file saved at its full length, then the tabs saved and read back (a reload): the tab holds a cut copy.
    const opened = openFile(oneTab(), {}, { ...seed, text: 'x' }) as NonNullable<ReturnType<typeof openFile>>;
    const grown = markSaved(opened.bindings, opened.tabs.activeId, 'v2', big);
    const storage = new MemoryStorage();
    saveTabs({ ...opened.tabs, tabs: opened.tabs.tabs.map((t) => ({ ...t, text: big })) }, storage);
    const reloaded = loadTabs('', storage).tabs.find((t) => t.id === opened.tabs.activeId);
    expect(reloaded?.text.length).toBe(MAX_TAB_CHARS);
    const binding = grown[opened.tabs.activeId] as NonNullable<(typeof grown)[string]>;
    expect(saveRefusal(binding, reloaded?.text ?? '')).toMatch(/more than a tab keeps/);
    expect(saveRefusal(binding, big)).toMatch(/more than a tab keeps/);
    expect(saveRefusal({ ...binding, savedText: 'x' }, 'xy')).toBeNull();
  });

  it('answers null when every tab is taken', () => {
    const full: TabsState = {
      tabs: Array.from({ length: MAX_TABS }, (_, i) => ({
        id: `t${i}`,
        name: `Query ${i + 1}`,
        text: '',
        mode: 'tail' as const,
        editedAt: 0,
      })),
      activeId: 't0',
      closed: {},
    };
    expect(openFile(full, {}, seed)).toBeNull();
  });

  it('is dirty while the buffer differs from the saved text; a save makes it clean with the new version', () => {
    const bindings: FileBindings = { t: { projectId: 'p1', path: 'a.sql', version: 'v1', savedText: 'x' } };
    expect(isDirty(bindings.t, 'x')).toBe(false);
    expect(isDirty(bindings.t, 'xy')).toBe(true);
    expect(isDirty(undefined, 'anything')).toBe(false);
    const stale = markStale(bindings, 't');
    expect(stale.t?.stale).toBe(true);
    const saved = markSaved(stale, 't', 'v2', 'xy');
    expect(saved.t).toEqual({ projectId: 'p1', path: 'a.sql', version: 'v2', savedText: 'xy' });
    expect(isDirty(saved.t, 'xy')).toBe(false);
  });

  it('drops the bindings of closed tabs and of a deleted project', () => {
    const bindings: FileBindings = {
      a: { projectId: 'p1', path: 'a.sql', version: 'v', savedText: '' },
      b: { projectId: 'p2', path: 'b.sql', version: 'v', savedText: '' },
      c: { projectId: 'p1', path: 'c.sql', version: 'v', savedText: '' },
    };
    expect(Object.keys(pruneBindings(bindings, ['a', 'b']))).toEqual(['a', 'b']);
    expect(Object.keys(pruneBindings(bindings, ['a', 'b', 'c'], 'p1'))).toEqual(['b']);
    expect(pruneBindings(bindings, ['a', 'b', 'c'])).toBe(bindings);
  });

  it('unbinds the tab of a deleted file only', () => {
    const bindings: FileBindings = {
      a: { projectId: 'p1', path: 'a.sql', version: 'v', savedText: '' },
      b: { projectId: 'p2', path: 'a.sql', version: 'v', savedText: '' },
    };
    expect(Object.keys(unbindFile(bindings, 'p1', 'a.sql'))).toEqual(['b']);
    expect(unbindFile(bindings, 'p1', 'other.sql')).toBe(bindings);
  });

  it('after a pull reloads clean tabs whose file changed and marks dirty or deleted ones stale', () => {
    const bindings: FileBindings = {
      clean: { projectId: 'p1', path: 'a.sql', version: 'v1', savedText: 'a' },
      dirty: { projectId: 'p1', path: 'b.sql', version: 'v1', savedText: 'b' },
      same: { projectId: 'p1', path: 'c.sql', version: 'v1', savedText: 'c' },
      gone: { projectId: 'p1', path: 'd.sql', version: 'v1', savedText: 'd' },
      other: { projectId: 'p2', path: 'a.sql', version: 'v1', savedText: 'a' },
    };
    const versions = new Map([
      ['a.sql', 'v2'],
      ['b.sql', 'v2'],
      ['c.sql', 'v1'],
    ]);
    const texts = new Map([
      ['clean', 'a'],
      ['dirty', 'b edited'],
      ['same', 'c edited'],
      ['gone', 'd'],
    ]);
    expect(outdatedTabs(bindings, 'p1', versions, texts)).toEqual({ reload: ['clean'], stale: ['dirty', 'gone'] });
  });

  it('keeps bindings across a reload and ignores malformed entries', () => {
    const storage = new MemoryStorage();
    saveBindings({ t: { projectId: 'p', path: 'x.sql', version: 'v', savedText: 's', stale: true } }, storage);
    expect(loadBindings(storage)).toEqual({ t: { projectId: 'p', path: 'x.sql', version: 'v', savedText: 's' } });
    storage.setItem('taidon.project-files', '{"t":{"projectId":1},"u":null}');
    expect(loadBindings(storage)).toEqual({});
    storage.setItem('taidon.project-files', 'not json');
    expect(loadBindings(storage)).toEqual({});
  });

  it('cuts a long path from the left for the tab name', () => {
    const name = tabNameOf(`seed/${'x'.repeat(60)}.sql`);
    expect(name).toHaveLength(40);
    expect(name.startsWith('…')).toBe(true);
    expect(name.endsWith('x.sql')).toBe(true);
  });
});
