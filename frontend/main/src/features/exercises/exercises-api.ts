import type {
  AttemptResult,
  CreateExerciseRequest,
  ExerciseList,
  ExerciseStats,
  ExerciseView,
  MutationReport,
  ProgressList,
  PublishResult,
} from '@taidon/contracts';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';

const post = (body: unknown, signal?: AbortSignal): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  signal: signal ?? null,
});
const path = (id: string) => `/api/exercises/${encodeURIComponent(id)}`;

/**
 * The gateway's `/api/exercises*` and `/api/me/progress` for the SPA (the
 * exercises service behind it); every failure is the ApiError of its
 * problem+json (404 EXERCISES_NOT_FOUND, 422 EXERCISES_KILL_SCORE_TOO_LOW, …).
 */
export class ExercisesApi {
  constructor(private readonly api: ApiClient) {}

  /** The catalog: published exercises, and to an instructor their drafts (every draft to an admin). */
  async list(signal?: AbortSignal): Promise<ExerciseList> {
    return (await this.api.request('/api/exercises', { signal: signal ?? null })).json() as Promise<ExerciseList>;
  }

  /** The caller's attempts and first solve per exercise. */
  async progress(signal?: AbortSignal): Promise<ProgressList> {
    return (await this.api.request('/api/me/progress', { signal: signal ?? null })).json() as Promise<ProgressList>;
  }

  /** One exercise: the author's view (solution, datasets, last report) to its author and admins, else the learner's. */
  async get(id: string, signal?: AbortSignal): Promise<ExerciseView> {
    return (await this.api.request(path(id), { signal: signal ?? null })).json() as Promise<ExerciseView>;
  }

  /** A new draft (instructors and admins). */
  async create(body: CreateExerciseRequest): Promise<ExerciseView> {
    return (await this.api.request('/api/exercises', post(body))).json() as Promise<ExerciseView>;
  }

  /** Changes an exercise (its author or an admin); a published one keeps serving its publication until the next. */
  async update(id: string, body: CreateExerciseRequest): Promise<ExerciseView> {
    return (
      await this.api.request(path(id), { method: 'PUT', body: JSON.stringify(body) })
    ).json() as Promise<ExerciseView>;
  }

  /** How learners fare: attempts, solve rate and the most common wrong results (its author and admins). */
  async stats(id: string, signal?: AbortSignal): Promise<ExerciseStats> {
    return (await this.api.request(`${path(id)}/stats`, { signal: signal ?? null })).json() as Promise<ExerciseStats>;
  }

  /** Measures and publishes; a refusal below the minimum kill score throws a PublishRefused with its report. */
  async publish(id: string): Promise<PublishResult> {
    try {
      return (await (await this.api.request(`${path(id)}/publish`, post({}))).json()) as PublishResult;
    } catch (error) {
      const report = error instanceof ApiError ? reportOf(error.body.report) : undefined;
      if (error instanceof ApiError && report) throw new PublishRefused(error, report);
      throw error;
    }
  }

  /** Grades an answer on throwaway clones of every dataset (never the learner's instance). */
  async attempt(id: string, sql: string, signal?: AbortSignal): Promise<AttemptResult> {
    return (await this.api.request(`${path(id)}/attempts`, post({ sql }, signal))).json() as Promise<AttemptResult>;
  }
}

/** A publish refused with the measure that refused it (EXERCISES_KILL_SCORE_TOO_LOW). */
export class PublishRefused extends Error {
  constructor(
    readonly error: ApiError,
    readonly report: MutationReport,
  ) {
    super(error.message);
    this.name = 'PublishRefused';
  }
}

function reportOf(value: unknown): MutationReport | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const report = value as Partial<MutationReport>;
  return typeof report.score === 'number' && Array.isArray(report.survivors) ? (report as MutationReport) : undefined;
}

/** Whether the view is the author's (it carries the solution), so the authoring tools show. */
export function isAuthored(view: ExerciseView): view is Extract<ExerciseView, { solution: string }> {
  return 'solution' in view;
}
