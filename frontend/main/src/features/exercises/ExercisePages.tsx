import { forwardRef, lazy, Suspense } from 'react';
import type { Route } from '../../app/route.js';
import type { ExercisesApi } from './exercises-api.js';
import type { ExercisePaneHandle, ExercisePaneProps } from './views.js';

// The exercise views load as their own chunk, on the first exercise page only.
const views = () => import('./views.js');
const ExerciseCatalog = lazy(() => views().then((m) => ({ default: m.ExerciseCatalog })));
const AuthoringForm = lazy(() => views().then((m) => ({ default: m.AuthoringForm })));
const ExercisePane = lazy(() => views().then((m) => ({ default: m.ExercisePane })));

/** Whether a route is one of the exercise pages shown instead of the editor (the catalog and the form). */
export const isExercisePage = (route: Route) =>
  route.page === 'catalog' || route.page === 'new-exercise' || route.page === 'edit-exercise';

/**
 * The catalog or the authoring form, in place of the editor. Keyed by the
 * account, so a sign-in reads them again (an author's drafts, the New link).
 */
export function ExercisePage({
  route,
  exercises,
  account,
  navigate,
}: {
  route: Route;
  exercises: ExercisesApi;
  account: { accountId: string; role: string } | null;
  navigate(path: string): void;
}) {
  const editId = route.page === 'edit-exercise' ? route.id : undefined;
  return (
    <main className="exercise-page">
      <Suspense fallback={<p className="muted">Loading…</p>}>
        {route.page === 'catalog' ? (
          <ExerciseCatalog
            key={account?.accountId ?? ''}
            exercises={exercises}
            role={account?.role}
            navigate={navigate}
          />
        ) : (
          <AuthoringForm
            key={`${editId ?? 'new'}:${account?.accountId ?? ''}`}
            exercises={exercises}
            navigate={navigate}
            editId={editId}
          />
        )}
      </Suspense>
    </main>
  );
}

/** The exercise beside the editor, loaded with the chunk; its key (the exercise and the account) is the caller's. */
export const LazyExercisePane = forwardRef<ExercisePaneHandle, ExercisePaneProps>(
  function LazyExercisePane(props, ref) {
    return (
      <Suspense fallback={<section className="exercise-pane" aria-busy="true" />}>
        <ExercisePane ref={ref} {...props} />
      </Suspense>
    );
  },
);
