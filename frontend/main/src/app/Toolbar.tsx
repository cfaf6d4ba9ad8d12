import type { RefObject } from 'react';
import type { SqlEditorHandle } from '../editor/SqlEditor.js';
import type { RunMode } from '../features/run/use-runner.js';

interface Props {
  editor: RefObject<SqlEditorHandle | null>;
  mode: RunMode;
  onMode(mode: RunMode): void;
  onRunHead(): void;
  /** EXPLAIN ANALYZE of the statement under the cursor (Ctrl/Cmd+E). */
  onExplain(): void;
  onReset(): void;
  /** Makes a share link of the buffer's tail and head (or of the shared link shown). */
  onShare(): void;
}

/** The editor's actions; each has a keyboard path too (Ctrl+Enter, Monaco's command palette on F1). */
export function Toolbar({ editor, mode, onMode, onRunHead, onExplain, onReset, onShare }: Props) {
  return (
    <div className="toolbar" role="toolbar" aria-label="Editor actions">
      <button type="button" onClick={onRunHead} aria-label="Run the head (Ctrl+Enter)" data-testid="run-button">
        ▶ Run
      </button>
      <button
        type="button"
        onClick={onExplain}
        aria-label="Explain the statement under the cursor (Ctrl+E)"
        data-testid="explain-button"
        title="EXPLAIN ANALYZE on a throwaway clone: your rows stay as they are"
      >
        Explain
      </button>
      <button type="button" onClick={() => editor.current?.format()} aria-label="Format the SQL">
        Format
      </button>
      <button
        type="button"
        onClick={() => editor.current?.markTailAboveCursor()}
        aria-label="Make the lines above the cursor the tail"
      >
        Tail above cursor
      </button>
      <button type="button" onClick={() => editor.current?.clearTail()} aria-label="Remove the tail marker">
        No tail
      </button>
      <label className="mode">
        <span>Each run:</span>
        <select
          value={mode}
          onChange={(e) => onMode(e.target.value as RunMode)}
          aria-label="Where each run starts"
          data-testid="run-mode"
        >
          <option value="tail">starts from the tail</option>
          <option value="continue">continues (REPL)</option>
        </select>
      </label>
      <button
        type="button"
        onClick={onReset}
        aria-label="Reset to a clean state (new session)"
        data-testid="reset-button"
      >
        Reset
      </button>
      <button
        type="button"
        onClick={onShare}
        aria-label="Share a link to this SQL and its state"
        data-testid="share-button"
      >
        Share
      </button>
    </div>
  );
}
