import { useState } from 'react';
import { type EditorTab, MAX_TAB_NAME, MAX_TABS } from './tabs.js';

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

/** The editor's tabs: each its own buffer, run mode and results; double-click (or ✎) renames, × closes. */
export function TabBar({ tabs, activeId, running, dirty, onSelect, onNew, onClose, onRename }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <div className="tabs editor-tabs" role="tablist" aria-label="Editor tabs">
      {tabs.map((tab) => (
        <div
          key={tab.id}
          className="editor-tab"
          data-testid="editor-tab"
          data-name={tab.name}
          data-active={String(tab.id === activeId)}
          data-dirty={String(dirty?.has(tab.id) ?? false)}
        >
          {editing === tab.id ? (
            <input
              // biome-ignore lint/a11y/noAutofocus: renaming starts where the learner double-clicked
              autoFocus
              defaultValue={tab.name}
              maxLength={MAX_TAB_NAME}
              aria-label="Tab name"
              data-testid="tab-name-input"
              onBlur={(e) => {
                onRename(tab.id, e.currentTarget.value);
                setEditing(null);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') e.currentTarget.blur();
                if (e.key === 'Escape') setEditing(null);
              }}
            />
          ) : (
            <button
              type="button"
              role="tab"
              aria-selected={tab.id === activeId}
              onClick={() => onSelect(tab.id)}
              onDoubleClick={() => setEditing(tab.id)}
              title="Double-click to rename"
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
          )}
          {tab.id === activeId && editing !== tab.id && (
            <button
              type="button"
              className="tab-action"
              onClick={() => setEditing(tab.id)}
              aria-label={`Rename tab ${tab.name}`}
              data-testid="tab-rename"
            >
              ✎
            </button>
          )}
          <button
            type="button"
            className="tab-action"
            onClick={() => onClose(tab.id)}
            aria-label={`Close tab ${tab.name}`}
            data-testid="tab-close"
          >
            ×
          </button>
        </div>
      ))}
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
