import type { AttemptCheck, ExerciseList, ProgressList } from '@taidon/contracts';
import { HEAD_MARKER, offsetOf, partsOf } from '../../editor/buffer.js';

/** How far the learner got with an exercise: solved once, tried without solving, or not tried. */
export type ProgressMark = 'solved' | 'tried' | 'new';

/** One line of the catalog. */
export interface CatalogEntry {
  id: string;
  slug: string;
  title: string;
  status: 'draft' | 'published';
  mark: ProgressMark;
  attempts: number;
}

/** The catalog's lines: every listed exercise with the caller's progress mark, published ones first, then by slug. */
export function catalogEntries(list: ExerciseList, progress: ProgressList): CatalogEntry[] {
  const byId = new Map(progress.map((p) => [p.exerciseId, p]));
  return list
    .map((e) => {
      const p = byId.get(e.id);
      const mark: ProgressMark = p?.firstSolvedAt ? 'solved' : (p?.attempts ?? 0) > 0 ? 'tried' : 'new';
      return { id: e.id, slug: e.slug, title: e.title, status: e.status, mark, attempts: p?.attempts ?? 0 };
    })
    .sort((a, b) => (a.status === b.status ? a.slug.localeCompare(b.slug) : a.status === 'published' ? -1 : 1));
}

/** The buffer an exercise opens with: its start state as the tail (so Run starts there), an empty head to answer in. */
export function starterBuffer(setupSql: string): string {
  const setup = setupSql.replace(/\n+$/, '');
  const answer = '-- Your answer: Run (Ctrl+Enter) tries it on your instance, Submit (Ctrl+Alt+Enter) grades it.\n';
  return setup.trim() === '' ? answer : `${setup}\n${HEAD_MARKER}\n${answer}`;
}

/** What Submit sends: the head of the buffer (below `-- @head`), and where it starts, to place an error back. */
export function answerOf(buffer: string): { sql: string; offset: number } {
  const parts = partsOf(buffer);
  return { sql: parts.head, offset: parts.headOffset };
}

/** Where a check's error sits in the buffer (the answer's line and column are counted from the head), or undefined. */
export function errorOffset(check: AttemptCheck, answer: { sql: string; offset: number }): number | undefined {
  if (!check.error) return undefined;
  return answer.offset + offsetOf(answer.sql, check.error.line, check.error.column);
}

/** A row of a diff as text: cells separated by │, NULL named. */
export function rowText(row: (string | null)[]): string {
  return row.map((cell) => (cell === null ? 'NULL' : cell)).join(' │ ');
}

/** How a dataset is named to the learner: the start state they see, or the N-th hidden one. */
export function datasetLabel(dataset: string): string {
  if (dataset === 'start') return 'Start state';
  const hidden = /^hidden-(\d+)$/.exec(dataset);
  return hidden ? `Hidden dataset ${hidden[1]}` : dataset;
}
