import type { ExerciseView } from '@taidon/contracts';
import { type RefObject, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { SqlEditorHandle } from '../../editor/SqlEditor.js';
import { loadExerciseBuffer, saveExerciseBuffer } from './exercise-buffers.js';
import { answerOf, starterBuffer } from './exercise-model.js';

/** Writes of a buffer wait this long after the last key, so typing does not rewrite the storage per key. */
const SAVE_DELAY_MS = 300;

/**
 * The editor's buffer while an exercise is shown: the learner's own from an
 * earlier visit, else the exercise's start state as the tail once it is read;
 * kept per exercise across reloads; Submit reads its head.
 */
export function useExerciseBuffer(exerciseId: string | undefined, editor: RefObject<SqlEditorHandle | null>) {
  const initial = useMemo(() => (exerciseId ? (loadExerciseBuffer(exerciseId) ?? '') : ''), [exerciseId]);
  const [edited, setEdited] = useState<{ id: string; text: string } | null>(null);
  const text = exerciseId !== undefined && edited?.id === exerciseId ? edited.text : initial;

  // The edit not yet written: written by its timer, or at once when the page goes (a reload, a closed tab)
  // or the exercise is left before the timer fired, so a reload right after typing keeps what was typed.
  const pending = useRef<{ id: string; text: string } | null>(null);
  const flush = useCallback(() => {
    const edit = pending.current;
    pending.current = null;
    if (edit) saveExerciseBuffer(edit.id, edit.text);
  }, []);
  useEffect(() => {
    if (!edited) return;
    const timer = setTimeout(flush, SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [edited, flush]);
  useEffect(() => {
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [flush]);

  const edit = useCallback(
    (value: string) => {
      if (!exerciseId) return;
      // Noted at once, not in an effect after the render: a page that goes before React renders keeps it too.
      pending.current = { id: exerciseId, text: value };
      setEdited(pending.current);
    },
    [exerciseId],
  );
  const onLoaded = useCallback(
    (view: ExerciseView) => {
      // Only a first visit starts from the exercise's text: a learner's own answer is never replaced.
      if (loadExerciseBuffer(view.id) !== undefined || (editor.current?.getText() ?? '') !== '') return;
      const starter = starterBuffer(view.setup.sql);
      editor.current?.setText(starter);
      saveExerciseBuffer(view.id, starter);
    },
    [editor],
  );
  const getAnswer = useCallback(() => answerOf(editor.current?.getText() ?? ''), [editor]);
  return { text, edit, onLoaded, getAnswer };
}
