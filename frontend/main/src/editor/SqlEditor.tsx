import { forwardRef, memo, useEffect, useImperativeHandle, useRef } from 'react';
import { partsOf, withMarkerAt } from './buffer.js';
import { registerCompletion } from './completion.js';
import { formatSql } from './format.js';
import { monaco } from './monaco.js';
import { statementAt } from './split.js';

/** What a run sends: the tail (state to start from), the head (what runs now) and where the head sits in the buffer. */
export interface RunSelection {
  tail: string;
  head: string;
  headOffset: number;
}

/** A problem to mark in the buffer, at absolute character offsets. */
export interface EditorMarker {
  offset: number;
  message: string;
  source: string;
}

/** Commands the page can give the editor. */
export interface SqlEditorHandle {
  getText(): string;
  setText(text: string): void;
  format(): void;
  /** Moves the tail/head marker above the cursor's line (everything above becomes the tail). */
  markTailAboveCursor(): void;
  clearTail(): void;
  focus(): void;
  /** Replaces the selection (or types at the cursor) with `text`, as one undoable edit. */
  insertAtCursor(text: string): void;
  /** The statement under the cursor, with the tail it starts from. */
  statementAtCursor(): RunSelection;
  /** Lets a closed tab's buffer go (its text, undo history and markers). */
  forgetBuffer(key: string): void;
}

/**
 * Buffers kept with their undo history: the 12 tabs the store allows and a few
 * views beside them (a shared link, exercises); past this the least recently
 * shown one that is not shown now is let go.
 */
export const MAX_BUFFERS = 16;

interface Props {
  /**
   * Which buffer the editor shows (a tab's id, an exercise's, a shared link's).
   * Each has a Monaco model of its own, so its undo history, cursor and
   * markers stay with it while another one is shown.
   */
  bufferKey: string;
  /** The buffer's text when the editor first shows it, or when it changed elsewhere while hidden. */
  initialText: string;
  theme: 'light' | 'dark';
  markers: EditorMarker[];
  /** The text cannot be changed (a shared link's SQL until the learner chooses to edit it). */
  readOnly?: boolean;
  onChange(text: string): void;
  onRun(selection: RunSelection, scope: 'buffer' | 'statement'): void;
  /** Ctrl/Cmd+E: EXPLAIN ANALYZE of the statement under the cursor. */
  onExplain?(selection: RunSelection): void;
  /** Ctrl/Cmd+Alt+Enter: submits the answer of an exercise (given only where an exercise is shown). */
  onSubmit?(): void;
}

let completionRegistered = false;

/** A buffer's model and where its view was (cursor, scroll, folds) when another buffer was shown. */
interface Buffer {
  model: monaco.editor.ITextModel;
  viewState: monaco.editor.ICodeEditorViewState | null;
}

/** Replaces a model's whole text as one undoable edit (setValue would empty its undo history). */
function replaceAll(model: monaco.editor.ITextModel, text: string): void {
  if (model.getValue() === text) return;
  model.pushStackElement();
  model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
  model.pushStackElement();
}

function selectionToRun(editor: monaco.editor.IStandaloneCodeEditor, scope: 'buffer' | 'statement'): RunSelection {
  const model = editor.getModel();
  if (!model) return { tail: '', head: '', headOffset: 0 };
  const text = model.getValue();
  const parts = partsOf(text);
  const selection = editor.getSelection();
  const cursor = model.getOffsetAt(editor.getPosition() ?? new monaco.Position(1, 1));
  const tailFor = (offset: number) => (parts.markerLine > 0 && offset >= parts.headOffset ? parts.tail : '');
  if (scope === 'buffer' && selection && !selection.isEmpty()) {
    const start = model.getOffsetAt(selection.getStartPosition());
    return { tail: tailFor(start), head: model.getValueInRange(selection), headOffset: start };
  }
  if (scope === 'statement') {
    const inHead = parts.markerLine === 0 || cursor >= parts.headOffset;
    const base = inHead ? parts.headOffset : 0;
    const source = inHead ? parts.head : parts.tail;
    const statement = statementAt(source, cursor - base);
    if (statement) return { tail: tailFor(base), head: statement.text, headOffset: base + statement.start };
  }
  return { tail: parts.tail, head: parts.head, headOffset: parts.headOffset };
}

function decorationsFor(model: monaco.editor.ITextModel): monaco.editor.IModelDeltaDecoration[] {
  const { markerLine } = partsOf(model.getValue());
  if (markerLine === 0) return [];
  const lines = model.getLineCount();
  const whole = (from: number, to: number, className: string, gutter: string, hover: string) => ({
    range: new monaco.Range(from, 1, to, 1),
    options: { isWholeLine: true, className, linesDecorationsClassName: gutter, hoverMessage: { value: hover } },
  });
  const out = [whole(markerLine, markerLine, 'head-marker-line', 'head-marker-gutter', 'Head starts below this line')];
  if (markerLine > 1)
    out.push(whole(1, markerLine - 1, 'tail-line', 'tail-gutter', 'Tail: the state each run starts from'));
  if (markerLine < lines) out.push(whole(markerLine + 1, lines, 'head-line', 'head-gutter', 'Head: what runs now'));
  return out;
}

const ariaLabelOf = (submits: boolean) =>
  `SQL editor. Ctrl+Enter runs the selection or the whole head; Ctrl+Shift+Enter runs the statement under the cursor; Ctrl+E explains it.${submits ? ' Ctrl+Alt+Enter submits your answer for grading.' : ''}`;

/**
 * The Monaco editor with PostgreSQL highlighting, completion, formatting, run
 * shortcuts and the tail/head marks. Memoized: give it stable callbacks, and a
 * run streaming in does not render it again.
 */
export const SqlEditor = memo(
  forwardRef<SqlEditorHandle, Props>(function SqlEditor(props, ref) {
    const host = useRef<HTMLDivElement>(null);
    const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
    const latest = useRef(props);
    latest.current = props;
    /** The buffers by key, least recently shown first. */
    const buffers = useRef(new Map<string, Buffer>());
    const shownKey = useRef<string | null>(null);
    const decorationsRef = useRef<monaco.editor.IEditorDecorationsCollection | null>(null);
    const canSubmit = useRef<monaco.editor.IContextKey<boolean> | null>(null);

    /** Shows the buffer of `key`, keeping the one shown before (its view state) for when it returns. */
    const show = (key: string, text: string) => {
      const editor = editorRef.current;
      if (!editor) return;
      const previous = shownKey.current ? buffers.current.get(shownKey.current) : undefined;
      if (previous) previous.viewState = editor.saveViewState();
      let buffer = buffers.current.get(key);
      if (buffer) {
        buffers.current.delete(key);
        // Changed while hidden (a project file reloaded, another window's save): one undoable edit.
        replaceAll(buffer.model, text);
      } else buffer = { model: monaco.editor.createModel(text, 'pgsql'), viewState: null };
      buffers.current.set(key, buffer);
      shownKey.current = key;
      editor.setModel(buffer.model);
      if (buffer.viewState) editor.restoreViewState(buffer.viewState);
      decorationsRef.current?.set(decorationsFor(buffer.model));
      for (const [k, b] of buffers.current) {
        if (buffers.current.size <= MAX_BUFFERS) break;
        if (k === key) continue;
        b.model.dispose();
        buffers.current.delete(k);
      }
    };

    // biome-ignore lint/correctness/useExhaustiveDependencies: the editor is made once; show reads refs only
    useEffect(() => {
      if (!host.current) return;
      if (!completionRegistered) {
        registerCompletion();
        completionRegistered = true;
      }
      const editor = monaco.editor.create(host.current, {
        model: null,
        theme: latest.current.theme === 'dark' ? 'taidon-dark' : 'taidon-light',
        automaticLayout: true,
        minimap: { enabled: false },
        fontSize: 14,
        scrollBeyondLastLine: false,
        tabSize: 2,
        lineDecorationsWidth: 14,
        ariaLabel: ariaLabelOf(latest.current.onSubmit !== undefined),
        accessibilitySupport: 'auto',
        readOnly: latest.current.readOnly === true,
      });
      editorRef.current = editor;
      const decorations = editor.createDecorationsCollection([]);
      decorationsRef.current = decorations;
      canSubmit.current = editor.createContextKey('taidonCanSubmit', latest.current.onSubmit !== undefined);
      show(latest.current.bufferKey, latest.current.initialText);
      const changed = editor.onDidChangeModelContent(() => {
        const current = editor.getModel();
        if (!current) return;
        decorations.set(decorationsFor(current));
        latest.current.onChange(current.getValue());
      });
      editor.addAction({
        id: 'taidon.run',
        label: 'Run selection or head',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
        contextMenuGroupId: 'navigation',
        run: (ed) =>
          latest.current.onRun(selectionToRun(ed as monaco.editor.IStandaloneCodeEditor, 'buffer'), 'buffer'),
      });
      editor.addAction({
        id: 'taidon.runStatement',
        label: 'Run statement under cursor',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.Enter],
        contextMenuGroupId: 'navigation',
        run: (ed) =>
          latest.current.onRun(selectionToRun(ed as monaco.editor.IStandaloneCodeEditor, 'statement'), 'statement'),
      });
      editor.addAction({
        id: 'taidon.explain',
        label: 'EXPLAIN ANALYZE the statement under the cursor',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyE],
        contextMenuGroupId: 'navigation',
        run: (ed) => latest.current.onExplain?.(selectionToRun(ed as monaco.editor.IStandaloneCodeEditor, 'statement')),
      });
      // A key of its own: Ctrl+Enter and Ctrl+Shift+Enter keep running on the learner's instance. Offered
      // only while an exercise's buffer is shown (the context key follows the onSubmit prop).
      editor.addAction({
        id: 'taidon.submit',
        label: 'Submit the answer for grading',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyMod.Alt | monaco.KeyCode.Enter],
        precondition: 'taidonCanSubmit',
        contextMenuGroupId: 'navigation',
        run: () => latest.current.onSubmit?.(),
      });
      const formatter = monaco.languages.registerDocumentFormattingEditProvider('pgsql', {
        provideDocumentFormattingEdits: (m) => [{ range: m.getFullModelRange(), text: formatSql(m.getValue()) }],
      });
      return () => {
        changed.dispose();
        formatter.dispose();
        editor.dispose();
        for (const buffer of buffers.current.values()) buffer.model.dispose();
        buffers.current.clear();
        shownKey.current = null;
        editorRef.current = null;
      };
    }, []);

    // biome-ignore lint/correctness/useExhaustiveDependencies: only a change of buffer shows another one
    useEffect(() => {
      if (shownKey.current !== props.bufferKey) show(props.bufferKey, props.initialText);
    }, [props.bufferKey]);

    const submits = props.onSubmit !== undefined;
    useEffect(() => {
      canSubmit.current?.set(submits);
      editorRef.current?.updateOptions({ ariaLabel: ariaLabelOf(submits) });
    }, [submits]);

    useEffect(() => {
      editorRef.current?.updateOptions({ readOnly: props.readOnly === true });
    }, [props.readOnly]);

    useEffect(() => {
      monaco.editor.setTheme(props.theme === 'dark' ? 'taidon-dark' : 'taidon-light');
    }, [props.theme]);

    // biome-ignore lint/correctness/useExhaustiveDependencies: another buffer shown takes the markers given for it
    useEffect(() => {
      const model = editorRef.current?.getModel();
      if (!model) return;
      const markers = props.markers.map((m) => {
        const start = model.getPositionAt(m.offset);
        const word = model.getWordAtPosition(start);
        const endColumn = word && word.endColumn > start.column ? word.endColumn : start.column + 1;
        return {
          severity: monaco.MarkerSeverity.Error,
          message: m.message,
          source: m.source,
          startLineNumber: start.lineNumber,
          startColumn: start.column,
          endLineNumber: start.lineNumber,
          endColumn,
        };
      });
      monaco.editor.setModelMarkers(model, 'taidon', markers);
    }, [props.markers, props.bufferKey]);

    useImperativeHandle(ref, () => ({
      getText: () => editorRef.current?.getValue() ?? '',
      setText: (text) => {
        const model = editorRef.current?.getModel();
        if (model) replaceAll(model, text);
      },
      format: () => void editorRef.current?.getAction('editor.action.formatDocument')?.run(),
      markTailAboveCursor: () => {
        const editor = editorRef.current;
        const line = editor?.getPosition()?.lineNumber ?? 1;
        const model = editor?.getModel();
        if (model) replaceAll(model, withMarkerAt(model.getValue(), line));
      },
      clearTail: () => {
        const model = editorRef.current?.getModel();
        if (model) replaceAll(model, withMarkerAt(model.getValue(), 0));
      },
      forgetBuffer: (key) => {
        const buffer = buffers.current.get(key);
        if (!buffer || key === shownKey.current) return;
        buffer.model.dispose();
        buffers.current.delete(key);
      },
      focus: () => editorRef.current?.focus(),
      insertAtCursor: (text) => {
        const editor = editorRef.current;
        const selection = editor?.getSelection();
        if (!editor || !selection || editor.getOption(monaco.editor.EditorOption.readOnly)) return;
        editor.executeEdits('taidon.insert', [{ range: selection, text, forceMoveMarkers: true }]);
        editor.focus();
      },
      statementAtCursor: () => {
        const editor = editorRef.current;
        return editor ? selectionToRun(editor, 'statement') : { tail: '', head: '', headOffset: 0 };
      },
    }));

    return (
      <div ref={host} className="editor-host" data-testid="editor" data-read-only={String(props.readOnly === true)} />
    );
  }),
);
