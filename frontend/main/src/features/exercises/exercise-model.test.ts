import { describe, expect, it } from 'vitest';
import { loadExerciseBuffer, MAX_EXERCISE_BUFFERS, saveExerciseBuffer } from './exercise-buffers.js';
import { answerOf, catalogEntries, datasetLabel, errorOffset, rowText, starterBuffer } from './exercise-model.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A Storage over a Map, as localStorage behaves. */
function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, v),
  };
}

describe('the exercise views’ models', () => {
  it('marks each exercise solved, tried or new from the progress, published ones first', () => {
    const list = [
      { id: id(1), slug: 'b-joins', title: 'Joins', status: 'published' as const, publishedAt: '2026-01-01T00:00:00Z' },
      { id: id(2), slug: 'a-draft', title: 'Draft', status: 'draft' as const, publishedAt: null },
      {
        id: id(3),
        slug: 'a-select',
        title: 'Select',
        status: 'published' as const,
        publishedAt: '2026-01-01T00:00:00Z',
      },
      { id: id(4), slug: 'c-group', title: 'Group', status: 'published' as const, publishedAt: '2026-01-01T00:00:00Z' },
    ];
    const progress = [
      { exerciseId: id(1), slug: 'b-joins', title: 'Joins', attempts: 3, firstSolvedAt: '2026-01-02T00:00:00Z' },
      { exerciseId: id(3), slug: 'a-select', title: 'Select', attempts: 2, firstSolvedAt: null },
    ];
    expect(catalogEntries(list, progress).map((e) => [e.slug, e.mark, e.attempts])).toEqual([
      ['a-select', 'tried', 2],
      ['b-joins', 'solved', 3],
      ['c-group', 'new', 0],
      ['a-draft', 'new', 0],
    ]);
  });

  it('opens an exercise with its start state as the tail and submits only the head', () => {
    const buffer = starterBuffer('CREATE TABLE t (a int);\n\n');
    expect(buffer.split('\n').slice(0, 2)).toEqual(['CREATE TABLE t (a int);', '-- @head']);
    const edited = `${buffer}SELECT a\nFROM nope;`;
    const answer = answerOf(edited);
    expect(answer.sql.endsWith('SELECT a\nFROM nope;')).toBe(true);
    expect(edited.slice(answer.offset)).toBe(answer.sql);
    // An error at line 3, column 6 of the answer lands on `nope` in the buffer.
    const check = { dataset: 'start', passed: false, error: { sqlstate: '42P01', message: 'x', line: 3, column: 6 } };
    const offset = errorOffset(check, answer) ?? -1;
    expect(edited.slice(offset, offset + 4)).toBe('nope');
  });

  it('writes rows with NULL named and names datasets as the learner knows them', () => {
    expect(rowText(['ann', null, '2'])).toBe('ann │ NULL │ 2');
    expect([datasetLabel('start'), datasetLabel('hidden-2')]).toEqual(['Start state', 'Hidden dataset 2']);
  });

  it('keeps the buffers of the exercises opened last, at most MAX_EXERCISE_BUFFERS', () => {
    const storage = memoryStorage();
    for (let n = 0; n <= MAX_EXERCISE_BUFFERS; n++) saveExerciseBuffer(id(n), `answer ${n}`, storage, 1000 + n);
    expect(loadExerciseBuffer(id(0), storage)).toBeUndefined();
    expect(loadExerciseBuffer(id(MAX_EXERCISE_BUFFERS), storage)).toBe(`answer ${MAX_EXERCISE_BUFFERS}`);
  });
});
