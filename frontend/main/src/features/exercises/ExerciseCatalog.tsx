import { useEffect, useState } from 'react';
import { ApiError } from '../../api/errors.js';
import { linkProps } from '../../app/route.js';
import { type CatalogEntry, catalogEntries, type ProgressMark } from './exercise-model.js';
import type { ExercisesApi } from './exercises-api.js';

const MARKS: Record<ProgressMark, { sign: string; label: string }> = {
  solved: { sign: '✓', label: 'solved' },
  tried: { sign: '◐', label: 'tried' },
  new: { sign: '○', label: 'new' },
};

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'open'; entries: CatalogEntry[] };

/**
 * The exercises: published ones with the learner's progress mark (solved,
 * tried, new), and to instructors their drafts and a link to author a new one.
 * Read again each time the page opens, so a solve shows at once.
 */
export function ExerciseCatalog({
  exercises,
  role,
  navigate,
}: {
  exercises: ExercisesApi;
  role: string | undefined;
  navigate(path: string): void;
}) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([exercises.list(controller.signal), exercises.progress(controller.signal)]).then(
      ([list, progress]) => setLoaded({ state: 'open', entries: catalogEntries(list, progress) }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setLoaded({
          state: 'failed',
          message: error instanceof ApiError ? error.message : 'The catalog could not be read.',
        });
      },
    );
    return () => controller.abort();
  }, [exercises]);
  const authors = role === 'instructor' || role === 'admin';
  const solved = loaded.state === 'open' ? loaded.entries.filter((e) => e.mark === 'solved').length : 0;
  const published = loaded.state === 'open' ? loaded.entries.filter((e) => e.status === 'published').length : 0;

  return (
    <section className="exercise-catalog" aria-label="Exercises" data-testid="exercise-catalog">
      <header className="row">
        <h2>Exercises</h2>
        {loaded.state === 'open' && (
          <span className="muted" data-testid="catalog-summary">
            {solved} of {published} solved
          </span>
        )}
        <span className="spacer" />
        {authors && (
          <a className="button" {...linkProps('/exercises/new', navigate)} data-testid="new-exercise">
            New exercise
          </a>
        )}
      </header>
      {loaded.state === 'loading' && <p className="muted">Loading…</p>}
      {loaded.state === 'failed' && <p role="alert">{loaded.message}</p>}
      {loaded.state === 'open' && loaded.entries.length === 0 && <p className="muted">No exercises yet.</p>}
      {loaded.state === 'open' && loaded.entries.length > 0 && (
        <ul className="catalog-list">
          {loaded.entries.map((entry) => (
            <li key={entry.id} data-testid="exercise-entry" data-slug={entry.slug} data-mark={entry.mark}>
              <span
                className={`mark mark-${entry.mark}`}
                title={MARKS[entry.mark].label}
                role="img"
                aria-label={MARKS[entry.mark].label}
              >
                {MARKS[entry.mark].sign}
              </span>
              <a {...linkProps(`/exercises/${entry.id}`, navigate)}>{entry.title}</a>
              <span className="muted"> {entry.slug}</span>
              {entry.status === 'draft' && <span className="badge">draft</span>}
              {entry.attempts > 0 && (
                <span className="muted">
                  {' '}
                  · {entry.attempts} attempt{entry.attempts === 1 ? '' : 's'}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
