import { addTab, MAX_TAB_CHARS, MAX_TAB_NAME, renameTab, type TabsState } from '../tabs/tabs.js';

/**
 * An editor tab that holds a project file: which file, the version it was
 * read at (sent back in `If-Match`), and the text of that version (the tab
 * is dirty while its buffer differs). `stale` is set when a save answered
 * 412: the file changed elsewhere, the buffer is kept.
 */
export interface FileBinding {
  projectId: string;
  path: string;
  version: string;
  savedText: string;
  stale?: boolean;
}

/** Bindings by tab id; tabs without one are plain query tabs. */
export type FileBindings = Readonly<Record<string, FileBinding>>;

const KEY = 'taidon.project-files';

/** The bindings saved by the last visit; anything malformed is dropped. */
export function loadBindings(storage: Storage = localStorage): FileBindings {
  try {
    const parsed = JSON.parse(storage.getItem(KEY) ?? '{}') as Record<string, unknown>;
    const out: Record<string, FileBinding> = {};
    for (const [tabId, value] of Object.entries(parsed ?? {})) {
      const v = value as Partial<FileBinding> | null;
      if (
        typeof v?.projectId === 'string' &&
        typeof v.path === 'string' &&
        typeof v.version === 'string' &&
        typeof v.savedText === 'string'
      ) {
        out[tabId] = { projectId: v.projectId, path: v.path, version: v.version, savedText: v.savedText };
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** Saves the bindings; a full storage keeps the previous save (the buffers themselves are the tabs'). */
export function saveBindings(bindings: FileBindings, storage: Storage = localStorage): void {
  try {
    storage.setItem(KEY, JSON.stringify(bindings));
  } catch {
    // Quota exceeded: a reload would show these tabs as plain queries, their text intact.
  }
}

/** A tab's name for a file: its path, cut from the left to fit. */
export function tabNameOf(path: string): string {
  return path.length <= MAX_TAB_NAME ? path : `…${path.slice(path.length - MAX_TAB_NAME + 1)}`;
}

/** The tab already holding this file, if any. */
export function tabOfFile(bindings: FileBindings, projectId: string, path: string): string | undefined {
  return Object.entries(bindings).find(([, b]) => b.projectId === projectId && b.path === path)?.[0];
}

/**
 * Opens a file in a tab: the tab that holds it already is shown (its buffer
 * kept), else a new tab with the file's text. Null when no tab can be added.
 */
export function openFile(
  tabs: TabsState,
  bindings: FileBindings,
  file: { projectId: string; path: string; text: string; version: string },
): { tabs: TabsState; bindings: FileBindings } | null {
  const existing = tabOfFile(bindings, file.projectId, file.path);
  if (existing && tabs.tabs.some((t) => t.id === existing)) return { tabs: { ...tabs, activeId: existing }, bindings };
  const added = addTab(tabs, file.text);
  if (added === tabs) return null;
  const named = renameTab(added, added.activeId, tabNameOf(file.path));
  const binding: FileBinding = {
    projectId: file.projectId,
    path: file.path,
    version: file.version,
    savedText: file.text,
  };
  return { tabs: named, bindings: { ...dropTab(bindings, existing), [added.activeId]: binding } };
}

/** Whether the tab's buffer differs from the version it was read or saved at. */
export function isDirty(binding: FileBinding | undefined, text: string): boolean {
  return binding !== undefined && binding.savedText !== text;
}

/** After a save (or a reload of the file): the new version and its text; no longer stale. */
export function markSaved(bindings: FileBindings, tabId: string, version: string, text: string): FileBindings {
  const binding = bindings[tabId];
  if (!binding) return bindings;
  return { ...bindings, [tabId]: { projectId: binding.projectId, path: binding.path, version, savedText: text } };
}

/** After a 412: the file changed elsewhere; the buffer stays as it is. */
export function markStale(bindings: FileBindings, tabId: string): FileBindings {
  const binding = bindings[tabId];
  return binding ? { ...bindings, [tabId]: { ...binding, stale: true } } : bindings;
}

/** Drops the bindings of tabs that are gone, or of a deleted project. */
export function pruneBindings(
  bindings: FileBindings,
  tabIds: readonly string[],
  deletedProject?: string,
): FileBindings {
  const open = new Set(tabIds);
  const kept = Object.entries(bindings).filter(([id, b]) => open.has(id) && b.projectId !== deletedProject);
  return kept.length === Object.keys(bindings).length ? bindings : Object.fromEntries(kept);
}

/** A deleted file's tab becomes a plain query tab (its text kept). */
export function unbindFile(bindings: FileBindings, projectId: string, path: string): FileBindings {
  return dropTab(bindings, tabOfFile(bindings, projectId, path));
}

function dropTab(bindings: FileBindings, tabId: string | undefined): FileBindings {
  if (!tabId || !(tabId in bindings)) return bindings;
  const { [tabId]: _gone, ...rest } = bindings;
  return rest;
}

/**
 * Tabs of a project whose file has a new version on the server (after a
 * pull, a merge or a restore) and no unsaved edit: their text is replaced.
 * A dirty tab keeps its buffer and is marked stale instead.
 */
export function outdatedTabs(
  bindings: FileBindings,
  projectId: string,
  versions: ReadonlyMap<string, string>,
  texts: ReadonlyMap<string, string>,
): { reload: string[]; stale: string[] } {
  const reload: string[] = [];
  const stale: string[] = [];
  for (const [tabId, b] of Object.entries(bindings)) {
    if (b.projectId !== projectId) continue;
    const now = versions.get(b.path);
    if (now === b.version) continue;
    // A file gone from the tree cannot be read again: its tab keeps the text, marked stale.
    if (now === undefined || isDirty(b, texts.get(tabId) ?? b.savedText)) stale.push(tabId);
    else reload.push(tabId);
  }
  return { reload, stale };
}

/**
 * Why a file cannot be edited in a tab, or null: tabs keep at most MAX_TAB_CHARS characters (cut on reload), so a
 * longer file would come back cut and a save would commit the cut text.
 */
export function tooLargeForTab(path: string, text: string): string | null {
  return text.length > MAX_TAB_CHARS
    ? `${path} has ${text.length} characters, more than a tab keeps (${MAX_TAB_CHARS}): edit it elsewhere and push it.`
    : null;
}

/**
 * Why the tab's text must not be saved over its file, or null: a text or a file past what a tab keeps (the tab may
 * hold a cut copy after a reload, which a save would commit as the whole file).
 */
export function saveRefusal(binding: FileBinding, text: string): string | null {
  return tooLargeForTab(binding.path, binding.savedText.length > text.length ? binding.savedText : text);
}
