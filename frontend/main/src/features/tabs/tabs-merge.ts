import { closedOf, type EditorTab, MAX_TABS, type TabsState } from './tabs.js';

/**
 * Two windows of the same browser share their tabs (ADR 0032, amended): each
 * saves to one localStorage entry and takes in the other's saves from the
 * `storage` event, merged per tab id, the later change of a tab winning
 * (text, name and mode together). A close is remembered with its time, so a
 * tab closed in one window is not brought back by the other's older copy;
 * a tab edited after the close elsewhere stays. This window's order and shown
 * tab are kept; tabs new to it come after its own, up to MAX_TABS.
 *
 * Returns `ours` itself when `theirs` brings nothing this window shows
 * differently, so taking in a save that holds nothing new saves nothing again.
 */
export function mergeTabs(ours: TabsState, theirs: TabsState): TabsState {
  const closed: Record<string, number> = { ...ours.closed };
  for (const [id, at] of Object.entries(theirs.closed)) closed[id] = Math.max(closed[id] ?? 0, at);
  const isClosed = (t: EditorTab) => (closed[t.id] ?? -1) >= t.editedAt;
  const theirsById = new Map(theirs.tabs.map((t) => [t.id, t]));
  const ourIds = new Set(ours.tabs.map((t) => t.id));
  let changed = false;
  const kept: EditorTab[] = [];
  for (const tab of ours.tabs) {
    const other = theirsById.get(tab.id);
    const later = other && other.editedAt > tab.editedAt ? other : tab;
    if (isClosed(later)) {
      changed = true;
      continue;
    }
    if (later !== tab && (later.text !== tab.text || later.name !== tab.name || later.mode !== tab.mode)) {
      changed = true;
    }
    kept.push(later === tab ? tab : { ...later });
  }
  for (const tab of theirs.tabs) {
    if (ourIds.has(tab.id) || isClosed(tab) || kept.length >= MAX_TABS) continue;
    kept.push(tab);
    changed = true;
  }
  if (!changed || kept.length === 0) return ours;
  const activeId = kept.some((t) => t.id === ours.activeId) ? ours.activeId : (kept[0]?.id ?? '');
  return { tabs: kept, activeId, closed: closedOf(closed) };
}
