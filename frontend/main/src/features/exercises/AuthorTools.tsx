import type { AuthoredExercise, MutationReport } from '@taidon/contracts';
import { useState } from 'react';
import { ApiError } from '../../api/errors.js';
import { linkProps } from '../../app/route.js';
import { withEquivalentMutant } from './authoring-model.js';
import { ExerciseStatsView } from './ExerciseStatsView.js';
import { type ExercisesApi, PublishRefused } from './exercises-api.js';
import { MutationReportView } from './MutationReportView.js';

type PublishState =
  | { state: 'idle' }
  | { state: 'publishing' }
  | { state: 'published'; report: MutationReport }
  | { state: 'refused'; message: string; report: MutationReport }
  | { state: 'failed'; message: string };

/**
 * The author's part of an exercise (its author and admins): status, Publish
 * (which measures the datasets against the reference's mutants first), and
 * the report, of a refusal below the minimum kill score too.
 */
export function AuthorTools({
  exercise,
  exercises,
  onPublished,
  navigate,
}: {
  exercise: AuthoredExercise;
  exercises: ExercisesApi;
  /** The exercise changed (published, or a mutant marked): the page reads it again. */
  onPublished(): void;
  navigate(path: string): void;
}) {
  const [publish, setPublish] = useState<PublishState>({ state: 'idle' });
  const start = async () => {
    setPublish({ state: 'publishing' });
    try {
      const result = await exercises.publish(exercise.id);
      setPublish({ state: 'published', report: result.report });
      onPublished();
    } catch (error) {
      if (error instanceof PublishRefused) {
        setPublish({ state: 'refused', message: error.message, report: error.report });
      } else {
        setPublish({
          state: 'failed',
          message: error instanceof ApiError ? `${error.message} (${error.code})` : String(error),
        });
      }
    }
  };
  const [marking, setMarking] = useState('');
  const markEquivalent = async (label: string) => {
    const body = withEquivalentMutant(exercise, label);
    if (!body) return;
    setMarking('');
    try {
      await exercises.update(exercise.id, body);
      setMarking(`Marked “${label}” equivalent: publish again to measure without it.`);
      onPublished();
    } catch (error) {
      setMarking(error instanceof ApiError ? `${error.message} (${error.code})` : String(error));
    }
  };
  const shown = publish.state === 'published' || publish.state === 'refused' ? publish.report : exercise.report;
  return (
    <section className="author-tools" aria-label="Authoring" data-testid="author-tools">
      <h3>
        Authoring{' '}
        <span className={`badge ${exercise.status === 'published' ? 'ok' : ''}`} data-testid="exercise-status">
          {exercise.status}
        </span>
      </h3>
      <p className="muted">
        Minimum kill score {exercise.minKillScore}; {exercise.datasets.length} hidden dataset
        {exercise.datasets.length === 1 ? '' : 's'}; a {exercise.kind} exercise.{' '}
        <a {...linkProps(`/exercises/${exercise.id}/edit`, navigate)} data-testid="edit-exercise">
          Edit
        </a>
      </p>
      <button
        type="button"
        onClick={() => void start()}
        disabled={publish.state === 'publishing'}
        data-testid="publish-button"
        aria-label="Publish: measure the datasets against mutants of the reference, then publish"
      >
        {exercise.status === 'published' ? 'Publish again' : 'Publish'}
      </button>
      {publish.state === 'publishing' && (
        <p role="status" data-testid="publishing">
          <span className="spinner" /> Building the datasets and running the mutants…
        </p>
      )}
      {publish.state === 'published' && (
        <p role="status" className="verdict-passed" data-testid="published">
          Published: learners see it in the catalog.
        </p>
      )}
      {publish.state === 'refused' && (
        <p role="alert" className="refused" data-testid="publish-refused">
          Not published: {publish.message} Add datasets that kill the survivors below, or mark equivalent ones.
        </p>
      )}
      {publish.state === 'failed' && (
        <p role="alert" className="run-error" data-testid="publish-failed">
          {publish.message}
        </p>
      )}
      {marking && (
        <p role="status" data-testid="marking">
          {marking}
        </p>
      )}
      {shown && (
        <MutationReportView
          report={shown}
          equivalent={exercise.equivalentMutants}
          onMarkEquivalent={(label) => void markEquivalent(label)}
        />
      )}
      {exercise.status === 'published' && <ExerciseStatsView exercises={exercises} id={exercise.id} />}
    </section>
  );
}
