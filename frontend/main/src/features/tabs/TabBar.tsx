import { type KeyboardEvent, useState } from 'react';
import { type EditorTab, MAX_TAB_NAME, MAX_TABS } from './tabs.js';

/** The id of the element the tabs control: the editor's panel (App gives it role=tabpanel). */
export const EDITOR_PANEL_ID = 'editor-tabpanel';
/** The DOM id of a tab's role=tab element, which labels the panel while it is selected. */
export const tabElementId = (tabId: string) => `editor-tab-${tabId}`;

interface Props {
  tabs: EditorTab[];
  activeId: string;
  /** Tabs whose run is in flight, marked with a dot. */
  running: ReadonlySet<string>;
  /** Tabs holding a project file with unsaved edits, marked with ●. */
  dirty?: ReadonlySet<string>;
  onSelect(id: string): void;
  onNew(): void;
  onClose(id: string): void;
  onRename(id: string, name: string): void;
}

/**
 * The editor's tabs as the ARIA tabs pattern has them: the tablist holds only
 * the tabs (the selected one in the focus order, arrow keys, Home and End move
 * between them, Delete closes, F2 renames); renaming and a new tab are buttons
 * beside it. Each tab's × is for the mouse, hidden from assistive technology,
 * which closes with Delete. Double-click (or ✎) renames.
 */
export function TabBar({ tabs, activeId, running, dirty, onSelect, onNew, onClose, onRename }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  const active = tabs.find((t) => t.id === activeId);
  const select = (id: string | undefined) => {
    if (!id) return;
    onSelect(id);
    document.getElementById(tabElementId(id))?.focus();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLElement>, index: number, id: string) => {
    const last = tabs.length - 1;
    const to = {
      ArrowRight: index === last ? 0 : index + 1,
      ArrowLeft: index === 0 ? last : index - 1,
      Home: 0,
      End: last,
    }[event.key];
    if (to !== undefined) {
      event.preventDefault();
      select(tabs[to]?.id);
    } else if (event.key === 'Delete') {
      event.preventDefault();
      onClose(id);
      // The focus follows to the tab shown in its place.
      requestAnimationFrame(() =>
        document.querySelector<HTMLElement>('.editor-tablist [role="tab"][aria-selected="true"]')?.focus(),
      );
    } else if (event.key === 'F2') {
      event.preventDefault();
      setEditing(id);
    }
  };
  const renaming = tabs.find((t) => t.id === editing);
  return (
    <div className="tabs editor-tabs">
      <div className="editor-tablist" role="tablist" aria-label="Editor tabs">
        {tabs.map((tab, index) => {
          const selected = tab.id === activeId;
          return (
            <div
              key={tab.id}
              role="presentation"
              className="editor-tab"
              data-testid="editor-tab"
              data-name={tab.name}
              data-active={String(selected)}
              data-dirty={String(dirty?.has(tab.id) ?? false)}
            >
              <button
                type="button"
                role="tab"
                id={tabElementId(tab.id)}
                aria-selected={selected}
                aria-controls={selected ? EDITOR_PANEL_ID : undefined}
                aria-keyshortcuts="Delete F2"
                tabIndex={selected ? 0 : -1}
                onClick={() => onSelect(tab.id)}
                onDoubleClick={() => setEditing(tab.id)}
                onKeyDown={(e) => onKeyDown(e, index, tab.id)}
                title="Double-click or F2 to rename, Delete to close"
              >
                {running.has(tab.id) && <span className="tab-running" title="running" aria-hidden="true" />}
                {tab.name}
                {dirty?.has(tab.id) && (
                  <span className="dirty-mark" title="unsaved changes">
                    {' '}
                    ●
                  </span>
                )}
              </button>
              {/* The mouse's way to close; the keyboard's is Delete on the tab. */}
              <span
                className="tab-action"
                aria-hidden="true"
                onClick={() => onClose(tab.id)}
                title={`Close tab ${tab.name}`}
                data-testid="tab-close"
              >
                ×
              </span>
            </div>
          );
        })}
      </div>
      {renaming ? (
        <input
          // biome-ignore lint/a11y/noAutofocus: renaming starts where the learner asked for it
          autoFocus
          defaultValue={renaming.name}
          maxLength={MAX_TAB_NAME}
          aria-label={`New name of tab ${renaming.name}`}
          data-testid="tab-name-input"
          onBlur={(e) => {
            onRename(renaming.id, e.currentTarget.value);
            setEditing(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.currentTarget.blur();
            if (e.key === 'Escape') setEditing(null);
          }}
        />
      ) : (
        active && (
          <button
            type="button"
            className="tab-action"
            onClick={() => setEditing(active.id)}
            aria-label={`Rename tab ${active.name}`}
            data-testid="tab-rename"
          >
            ✎
          </button>
        )
      )}
      <button
        type="button"
        onClick={onNew}
        disabled={tabs.length >= MAX_TABS}
        aria-label="New tab"
        data-testid="tab-new"
        title={tabs.length >= MAX_TABS ? `At most ${MAX_TABS} tabs` : 'New tab'}
      >
        +
      </button>
    </div>
  );
}
