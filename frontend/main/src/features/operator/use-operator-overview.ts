import type { OperatorOverview } from '@taidon/contracts';
import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';

/** How often the page asks again while it is open and the tab visible (the gateway shares one read for 2 s). */
export const OVERVIEW_REFRESH_MS = 5_000;

/** The last overview, when it came, and the error of the last attempt (kept beside the last good figures). */
export interface OverviewState {
  overview: OperatorOverview | null;
  receivedAtMs: number | null;
  error: string | null;
}

/**
 * `GET /api/admin/overview` every OVERVIEW_REFRESH_MS while `active` (the
 * page is open) and the document is visible; a hidden tab asks nothing and
 * asks at once when shown again.
 */
export function useOperatorOverview(api: ApiClient, active: boolean): OverviewState {
  const [state, setState] = useState<OverviewState>({ overview: null, receivedAtMs: null, error: null });
  useEffect(() => {
    if (!active) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    const load = async () => {
      clearTimeout(timer);
      if (document.visibilityState !== 'visible') return;
      controller?.abort();
      // This load's own controller: a newer load (the tab shown again) aborts it, and only the newest schedules
      // the next one, so there is one polling loop however often the page is shown.
      const mine = new AbortController();
      controller = mine;
      try {
        const response = await api.request('/api/admin/overview', { signal: mine.signal });
        const overview = (await response.json()) as OperatorOverview;
        if (!live || mine.signal.aborted) return;
        setState({ overview, receivedAtMs: Date.now(), error: null });
      } catch (error) {
        if (!live || mine.signal.aborted) return;
        const message = error instanceof ApiError ? `${error.message} (${error.code})` : 'The overview did not load.';
        setState((previous) => ({ ...previous, error: message }));
      }
      if (live && !mine.signal.aborted) timer = setTimeout(() => void load(), OVERVIEW_REFRESH_MS);
    };
    const onVisibility = () => void load();
    document.addEventListener('visibilitychange', onVisibility);
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [api, active]);
  return state;
}
