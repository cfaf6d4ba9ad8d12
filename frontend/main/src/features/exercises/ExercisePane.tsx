import type { AttemptResult, ExerciseView } from '@taidon/contracts';
import { forwardRef, useCallback, useEffect, useImperativeHandle, useState } from 'react';
import { ApiError } from '../../api/errors.js';
import type { Problem } from '../../app/plan-markers.js';
import { linkProps } from '../../app/route.js';
import { AuthorTools } from './AuthorTools.js';
import { errorOffset } from './exercise-model.js';
import { type ExercisesApi, isAuthored } from './exercises-api.js';
import { Markdown } from './Markdown.js';
import { VerdictView } from './VerdictView.js';

/** What the page can ask of the pane: Submit, from its key as from its button. */
export interface ExercisePaneHandle {
  submit(): void;
}

/** What the page gives the pane. */
export interface ExercisePaneProps {
  exercises: ExercisesApi;
  id: string;
  /** The answer in the editor (its head) and where it starts in the buffer. */
  getAnswer(): { sql: string; offset: number };
  /** The exercise is read: the page opens its start state in the editor on a first visit. */
  onLoaded(view: ExerciseView): void;
  /** Errors of the last verdict, placed in the buffer as editor markers. */
  onProblems(problems: Problem[]): void;
  navigate(path: string): void;
}

type Loaded = { state: 'loading' } | { state: 'missing'; message: string } | { state: 'open'; view: ExerciseView };
type Grading =
  | { state: 'idle' }
  | { state: 'grading' }
  | { state: 'done'; result: AttemptResult }
  | { state: 'failed'; message: string };

/**
 * An exercise beside the editor: its task (Markdown, as text), Submit
 * (Ctrl/Cmd+Alt+Enter too) grading the head on throwaway clones of every
 * dataset, and the verdict per dataset; its author also gets Publish and the
 * mutation report. Run keeps running on the learner's own instance.
 */
export const ExercisePane = forwardRef<ExercisePaneHandle, ExercisePaneProps>(function ExercisePane(props, ref) {
  const { exercises, id, getAnswer, onLoaded, onProblems, navigate } = props;
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [grading, setGrading] = useState<Grading>({ state: 'idle' });
  const [version, setVersion] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version asks again after a publish
  useEffect(() => {
    const controller = new AbortController();
    setGrading({ state: 'idle' });
    exercises.get(id, controller.signal).then(
      (view) => {
        setLoaded({ state: 'open', view });
        onLoaded(view);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setLoaded({
          state: 'missing',
          message: error instanceof ApiError ? error.message : 'The exercise could not be read.',
        });
      },
    );
    return () => controller.abort();
  }, [exercises, id, version, onLoaded]);

  const view = loaded.state === 'open' ? loaded.view : undefined;
  const published = view?.status === 'published';
  const submit = useCallback(async () => {
    if (!published || grading.state === 'grading') return;
    const answer = getAnswer();
    if (answer.sql.trim() === '') {
      setGrading({ state: 'failed', message: 'Write your answer below the -- @head line first.' });
      return;
    }
    setGrading({ state: 'grading' });
    onProblems([]);
    try {
      const result = await exercises.attempt(id, answer.sql);
      setGrading({ state: 'done', result });
      const problems = new Map<number, Problem>();
      for (const check of result.checks) {
        const offset = errorOffset(check, answer);
        if (offset === undefined || !check.error) continue;
        const message = `${check.error.message} (SQLSTATE ${check.error.sqlstate})`;
        problems.set(offset, { offset, message, source: 'submit', sqlstate: check.error.sqlstate });
      }
      onProblems([...problems.values()]);
    } catch (error) {
      setGrading({
        state: 'failed',
        message: error instanceof ApiError ? `${error.message} (${error.code})` : String(error),
      });
    }
  }, [published, grading.state, getAnswer, exercises, id, onProblems]);
  useImperativeHandle(ref, () => ({ submit: () => void submit() }), [submit]);

  return (
    <section className="exercise-pane" aria-label="Exercise" data-testid="exercise-pane">
      <nav className="exercise-nav">
        <a {...linkProps('/exercises', navigate)}>← All exercises</a>
      </nav>
      {loaded.state === 'loading' && <p className="muted">Loading the exercise…</p>}
      {loaded.state === 'missing' && (
        <p role="alert" data-testid="exercise-missing">
          {loaded.message}
        </p>
      )}
      {view && (
        <>
          <h2 data-testid="exercise-title">{view.title}</h2>
          <Markdown text={view.task} />
          <div className="submit-row">
            <button
              type="button"
              className="primary"
              onClick={() => void submit()}
              disabled={!published || grading.state === 'grading'}
              data-testid="submit-button"
              aria-label="Submit your answer for grading (Ctrl+Alt+Enter)"
              title={
                published
                  ? 'Grades the head on fresh clones of every dataset; your instance stays as it is'
                  : 'Publish the exercise first'
              }
            >
              Submit
            </button>
            <span className="muted">Ctrl+Alt+Enter · Run (Ctrl+Enter) tries it on your own instance</span>
          </div>
          {grading.state === 'grading' && (
            <p role="status" data-testid="grading">
              <span className="spinner" /> Grading on every dataset…
            </p>
          )}
          {grading.state === 'failed' && (
            <p role="alert" className="run-error" data-testid="submit-failed">
              {grading.message}
            </p>
          )}
          {grading.state === 'done' && <VerdictView result={grading.result} />}
          {isAuthored(view) && (
            <AuthorTools
              exercise={view}
              exercises={exercises}
              onPublished={() => setVersion((v) => v + 1)}
              navigate={navigate}
            />
          )}
        </>
      )}
    </section>
  );
});
