import { ExercisesError } from '../errors.js';

/**
 * Datasets graded at once: sql-runner's default allowance of grading clones of warm held states per account
 * (THROWAWAY_GRADER_MAX_PER_ACCOUNT, ADR 0044), so a 3-hidden exercise's 4 states go in one round. A state not
 * held warm counts against the smaller THROWAWAY_MAX_PER_ACCOUNT: a dataset refused busy while others of the
 * same call run waits for one of them to end and goes again (see `gradeEach`).
 */
export const DATASETS_AT_ONCE = 4;

/**
 * How many grades run at once, shared by the calls that pass the same object: lowered by `gradeEach` when
 * sql-runner refuses one busy, so a publish's later mutants start within the bound it found instead of being
 * refused again in every round.
 */
export interface GradeBound {
  atOnce: number;
}

/**
 * Runs `grade(i)` for every index, up to `bound` at a time. A grade refused with EXERCISES_GRADER_BUSY while
 * others of the same call still run (the account's throwaway slots, held by this very call) is queued again
 * behind them, and at most as many run at once from then on; refused when nothing else runs, it is the
 * call's answer (503). So a smaller bound than asked costs rounds, never the verdict.
 */
export async function gradeEach(
  count: number,
  bound: number | GradeBound,
  grade: (index: number) => Promise<void>,
): Promise<void> {
  const shared = typeof bound === 'number' ? { atOnce: bound } : bound;
  shared.atOnce = Math.max(1, shared.atOnce);
  const queue = Array.from({ length: count }, (_, i) => i);
  let running = 0;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (queue.length === 0 && running === 0) return resolve();
      while (running < shared.atOnce && queue.length > 0) {
        const i = queue.shift() as number;
        running++;
        grade(i).then(
          () => {
            running--;
            pump();
          },
          (error: unknown) => {
            running--;
            if (isBusy(error) && running > 0) {
              shared.atOnce = Math.max(1, Math.min(shared.atOnce, running));
              queue.unshift(i);
              return pump();
            }
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
}

const isBusy = (error: unknown) => error instanceof ExercisesError && error.code === 'EXERCISES_GRADER_BUSY';
