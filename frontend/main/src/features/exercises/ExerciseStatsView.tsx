import type { ExerciseStats } from '@taidon/contracts';
import { useEffect, useState } from 'react';
import { ApiError } from '../../api/errors.js';
import type { ExercisesApi } from './exercises-api.js';
import { CheckView } from './VerdictView.js';

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'open'; stats: ExerciseStats };

/**
 * How learners fare with an exercise (its author and admins): attempts, solve
 * rate, and the most common wrong results, grouped by what they returned on
 * every dataset, each with its first answer and verdict, so one hint can
 * answer a whole group. Read when shown and on Refresh.
 */
export function ExerciseStatsView({ exercises, id }: { exercises: ExercisesApi; id: string }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [version, setVersion] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: version asks again on Refresh
  useEffect(() => {
    const controller = new AbortController();
    exercises.stats(id, controller.signal).then(
      (stats) => setLoaded({ state: 'open', stats }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setLoaded({ state: 'failed', message: error instanceof ApiError ? error.message : 'Not available.' });
      },
    );
    return () => controller.abort();
  }, [exercises, id, version]);

  return (
    <section className="exercise-stats" aria-label="Learners" data-testid="exercise-stats">
      <h3>
        Learners{' '}
        <button type="button" onClick={() => setVersion((v) => v + 1)} aria-label="Read the learners' figures again">
          ↻
        </button>
      </h3>
      {loaded.state === 'loading' && <p className="muted">Loading…</p>}
      {loaded.state === 'failed' && <p className="muted">{loaded.message}</p>}
      {loaded.state === 'open' && (
        <>
          <p data-testid="stats-summary">
            {loaded.stats.attempts} attempts by {loaded.stats.learners} learners; {loaded.stats.solved} solved it (
            {Math.round(loaded.stats.solveRate * 100)} %).
          </p>
          {loaded.stats.wrongAnswers.length > 0 && <h4>Most common wrong results</h4>}
          {loaded.stats.wrongAnswers.map((group) => (
            <details key={group.digest} className="wrong-group" data-testid="wrong-group">
              <summary>
                {group.attempts} attempts by {group.learners} learners:{' '}
                {group.example.checks
                  .filter((c) => !c.passed)
                  .map((c) => `${c.dataset} ${c.reason ?? ''}`.trim())
                  .join(', ')}
              </summary>
              <pre>
                <code>{group.example.sql}</code>
              </pre>
              {group.example.checks
                .filter((c) => !c.passed)
                .map((c) => (
                  <CheckView key={c.dataset} check={c} />
                ))}
            </details>
          ))}
        </>
      )}
    </section>
  );
}
