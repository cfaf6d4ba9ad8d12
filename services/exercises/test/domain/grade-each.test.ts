import { describe, expect, it } from 'vitest';
import { DATASETS_AT_ONCE, type GradeBound, gradeEach } from '../../src/domain/grade-each.js';
import { ExercisesError } from '../../src/errors.js';

// An attempt's datasets graded at once (ADR 0044): all of a 3-hidden exercise's 4 states in one round when
// sql-runner's bound allows it, fewer (never a failed verdict) when it is smaller.

const busy = () =>
  new ExercisesError('EXERCISES_GRADER_BUSY', 'Every grading instance is in use; try again in a moment.', {
    details: { retryAfterSeconds: 1 },
  });

/** A grader whose bound is `slots` at once: past it, refused busy as sql-runner's 429 reaches the service. */
function boundedGrader(slots: number) {
  let running = 0;
  const seen = { most: 0, refused: 0, graded: [] as number[] };
  const grade = async (i: number) => {
    if (running >= slots) {
      seen.refused++;
      throw busy();
    }
    running++;
    seen.most = Math.max(seen.most, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    seen.graded.push(i);
  };
  return { grade, seen };
}

describe('gradeEach', () => {
  it("grades a 3-hidden exercise's 4 states in one round", async () => {
    expect(DATASETS_AT_ONCE).toBe(4);
    const { grade, seen } = boundedGrader(4);
    await gradeEach(4, DATASETS_AT_ONCE, grade);
    expect(seen.most).toBe(4);
    expect(seen.refused).toBe(0);
    expect([...seen.graded].sort()).toEqual([0, 1, 2, 3]);
  });

  it('queues a dataset refused busy behind the ones running, and runs no more at once than were let in', async () => {
    const { grade, seen } = boundedGrader(2);
    await gradeEach(6, 4, grade);
    expect([...seen.graded].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.most).toBe(2);
    expect(seen.refused).toBe(2); // the two past the bound in the first round, then never again
  });

  it('answers busy when a dataset is refused with nothing else of the attempt running', async () => {
    const { grade } = boundedGrader(0);
    await expect(gradeEach(3, 4, grade)).rejects.toMatchObject({ code: 'EXERCISES_GRADER_BUSY' });
  });

  it('answers another error as it is, without grading what is left', async () => {
    const graded: number[] = [];
    const failing = async (i: number) => {
      if (i === 0) throw new Error('sql-runner answered 500');
      await new Promise((r) => setTimeout(r, 10));
      graded.push(i);
    };
    await expect(gradeEach(8, 2, failing)).rejects.toThrow('sql-runner answered 500');
    expect(graded.length).toBeLessThan(8);
  });

  it('keeps the bound it found for the next call that shares it: a measure is refused once, not per mutant', async () => {
    const { grade, seen } = boundedGrader(2);
    const bound: GradeBound = { atOnce: 4 };
    await gradeEach(4, bound, grade);
    expect(bound.atOnce).toBe(2);
    const refusedFirst = seen.refused;
    expect(refusedFirst).toBeGreaterThan(0);
    for (let mutant = 0; mutant < 5; mutant++) await gradeEach(4, bound, grade);
    expect(seen.refused).toBe(refusedFirst);
    expect(seen.graded).toHaveLength(24);
  });
});
