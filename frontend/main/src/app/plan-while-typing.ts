import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { type Problem, planFilesOf, problemOfRejection } from './plan-markers.js';

const PLAN_DEBOUNCE_MS = 500;

/** Plans the buffer while the learner types: a syntax error is marked before anything runs. */
export function usePlanWhileTyping(api: ApiClient, text: string): { problems: Problem[]; summary: string } {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [summary, setSummary] = useState('');
  useEffect(() => {
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
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text, api]);
  return { problems, summary };
}
