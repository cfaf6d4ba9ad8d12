import { Counter, Histogram, type Registry } from 'prom-client';

/** Issue 18's figures the exercises service observes (ARCHITECTURE §10). */
export interface ExerciseMetrics {
  /** Attempts by outcome: passed, failed, or the error code that refused one. */
  attempts: Counter<'outcome'>;
  /** Submit to verdict of an attempt, by outcome. */
  attemptSeconds: Histogram<'outcome'>;
  /** Publishes by outcome: published, or the code that refused one (EXERCISES_KILL_SCORE_TOO_LOW, …). */
  publishes: Counter<'outcome'>;
  publishSeconds: Histogram<'outcome'>;
  /** Mutants publishes measured, by result. */
  mutants: Counter<'result'>;
  /** Exercises changed by PUT, by the status they had (a published one keeps serving its publication). */
  updates: Counter<'status'>;
}

/** Registers the exercises service's series on `registry` (the one `/metrics` serves). */
export function createExerciseMetrics(registry: Registry): ExerciseMetrics {
  const registers = [registry];
  return {
    attempts: new Counter({
      name: 'taidon_exercise_attempts_total',
      help: 'Exercise attempts by outcome (passed, failed, or the error code that refused one).',
      labelNames: ['outcome'],
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'taidon_exercise_attempt_seconds',
      help: 'Time from an attempt to its verdict over every dataset, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    publishes: new Counter({
      name: 'taidon_exercise_publishes_total',
      help: 'Publishes by outcome (published, or the error code that refused one).',
      labelNames: ['outcome'],
      registers,
    }),
    publishSeconds: new Histogram({
      name: 'taidon_exercise_publish_seconds',
      help: 'Time a publish took (datasets built, reference and mutants run), by outcome.',
      labelNames: ['outcome'],
      buckets: [1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    mutants: new Counter({
      name: 'taidon_exercise_mutants_total',
      help: 'Mutants of references measured by publishes, by result (killed, survived, stillborn, equivalent, unmeasured).',
      labelNames: ['result'],
      registers,
    }),
    updates: new Counter({
      name: 'taidon_exercise_updates_total',
      help: 'Exercises changed by PUT, by the status they had (draft, published).',
      labelNames: ['status'],
      registers,
    }),
  };
}

/** Runs `work`, counting and timing it by outcome: `ok(result)`, or the error's code. */
export async function observed<T>(
  counter: Counter<'outcome'>,
  histogram: Histogram<'outcome'>,
  ok: (result: T) => string,
  work: () => Promise<T>,
): Promise<T> {
  const begin = performance.now();
  let outcome = 'error';
  try {
    const result = await work();
    outcome = ok(result);
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    outcome = typeof code === 'string' ? code : 'error';
    throw error;
  } finally {
    counter.inc({ outcome });
    histogram.observe({ outcome }, (performance.now() - begin) / 1000);
  }
}
