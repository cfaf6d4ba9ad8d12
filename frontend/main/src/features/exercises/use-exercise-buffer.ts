import type { ExerciseView } from '@taidon/contracts';
import { type RefObject, useCallback, useEffect, useMemo, useState } from 'react';
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

  useEffect(() => {
    if (!edited) return;
    const timer = setTimeout(() => saveExerciseBuffer(edited.id, edited.text), SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [edited]);

  const edit = useCallback(
    (value: string) => {
      if (exerciseId) setEdited({ id: exerciseId, text: value });
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
