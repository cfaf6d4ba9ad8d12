import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { afterThisTask } from './after-this-task.js';
import { type Problem, planFilesOf, problemOfRejection } from './plan-markers.js';

const PLAN_DEBOUNCE_MS = 500;

/**
 * Plans the buffer while the learner types: a syntax error is marked before
 * anything runs. A run answers the same question (its 422 carries the same
 * position, checked before anything starts), so `answeredByRun` drops the
 * pending plan of the text being run and plans nothing until it changes.
 */
export function usePlanWhileTyping(
  api: ApiClient,
  text: string,
): { problems: Problem[]; summary: string; answeredByRun(text: string): void } {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [summary, setSummary] = useState('');
  const answered = useRef<string | null>(null);
  const pending = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (text === answered.current) return;
    answered.current = null;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const { files, parts } = planFilesOf(text);
      if (files.length === 0) return setProblems([]);
      api.plan({ files }, controller.signal).then(
        (plan) => {
          setProblems([]);
          const cached = plan.startsFrom && plan.startsFrom.afterStep >= 0;
          setSummary(
            `${plan.steps.length} steps${cached ? `, cached up to step ${(plan.startsFrom?.afterStep ?? 0) + 1}` : ''}`,
          );
        },
        (error: unknown) => {
          if (controller.signal.aborted || !(error instanceof ApiError)) return;
          const problem = problemOfRejection(error, parts, 'plan');
          setProblems(problem ? [problem] : []);
          setSummary('');
        },
      );
    }, PLAN_DEBOUNCE_MS);
    pending.current = () => {
      clearTimeout(timer);
      controller.abort();
    };
    return pending.current;
  }, [text, api]);
  const answeredByRun = useCallback((runText: string) => {
    answered.current = runText;
    pending.current();
    // The run's own problems replace the plan's; the bail-out keeps an empty list from rendering the page again.
    // In the task after the caller's, as the run's own updates (a key press's handler changes nothing).
    afterThisTask(() => setProblems((p) => (p.length === 0 ? p : [])));
  }, []);
  return { problems, summary, answeredByRun };
}
