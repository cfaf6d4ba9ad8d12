import { useCallback, useEffect, useState } from 'react';

/**
 * The page a path shows: the editor (its tabs, or a share link's SQL, which
 * reads its own path), the exercise catalog, the authoring form (new, or an
 * exercise's edit), or one exercise beside the editor. Every one is a real path, so a reload or a
 * pasted link opens the same page (the gateway answers index.html for them).
 */
export type Route =
  | { page: 'editor' }
  | { page: 'catalog' }
  | { page: 'new-exercise' }
  | { page: 'exercise'; id: string }
  | { page: 'edit-exercise'; id: string };

const EXERCISE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The route of a path; an unknown path under /exercises shows the catalog. */
export function routeOf(path: string): Route {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'exercises') return { page: 'editor' };
  if (parts.length === 1) return { page: 'catalog' };
  if (parts[1] === 'new' && parts.length === 2) return { page: 'new-exercise' };
  const id = decodeURIComponent(parts[1] ?? '');
  if (!EXERCISE_ID.test(id)) return { page: 'catalog' };
  if (parts.length === 2) return { page: 'exercise', id };
  return parts.length === 3 && parts[2] === 'edit' ? { page: 'edit-exercise', id } : { page: 'catalog' };
}

/** The path of a route, the inverse of routeOf. */
export function pathOf(route: Route): string {
  switch (route.page) {
    case 'editor':
      return '/';
    case 'catalog':
      return '/exercises';
    case 'new-exercise':
      return '/exercises/new';
    case 'exercise':
      return `/exercises/${encodeURIComponent(route.id)}`;
    case 'edit-exercise':
      return `/exercises/${encodeURIComponent(route.id)}/edit`;
  }
}

/** The current route and a navigate() that pushes a history entry; Back and Forward move between pages. */
export function useRoute(): [Route, (path: string) => void] {
  const [route, setRoute] = useState(() => routeOf(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(routeOf(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((path: string) => {
    if (path !== window.location.pathname) window.history.pushState(null, '', path);
    setRoute(routeOf(path));
  }, []);
  return [route, navigate];
}

/**
 * Props of an in-app link: a plain click navigates without a reload; a click
 * with a modifier (new tab, new window) is left to the browser.
 */
export function linkProps(path: string, navigate: (path: string) => void) {
  return {
    href: path,
    onClick: (event: {
      button: number;
      ctrlKey: boolean;
      metaKey: boolean;
      shiftKey: boolean;
      altKey: boolean;
      preventDefault(): void;
    }) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(path);
    },
  };
}
