import type { ConflictFile, PendingMerge, ResolveMergeRequest } from '@taidon/contracts';

/** How the learner resolves one conflicting file: one side whole, or the text they merged. */
export type ConflictChoice = { take: 'ours' | 'theirs' } | { text: string };

const OURS = '<<<<<<< ours (this project)';
const SPLIT = '=======';
const THEIRS = '>>>>>>> theirs (the remote)';

/**
 * A starting text for a merge written by hand: both sides between Git's
 * conflict markers (a side without the file contributes nothing).
 */
export function mergeDraft(file: ConflictFile): string {
  const ours = file.ours ?? '';
  const theirs = file.theirs ?? '';
  const end = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  return `${OURS}\n${end(ours)}${SPLIT}\n${end(theirs)}${THEIRS}\n`;
}

/** Whether a merged text still holds a conflict marker line (saving it would commit the markers). */
export function hasConflictMarkers(text: string): boolean {
  return /^(<{7}|={7}|>{7})( |$)/m.test(text);
}

/**
 * The body of `POST …/merge` once every conflicting file has a choice;
 * otherwise the paths still without one.
 */
export function resolutionsOf(
  merge: PendingMerge,
  choices: Readonly<Record<string, ConflictChoice>>,
): { request: ResolveMergeRequest } | { missing: string[] } {
  const missing = merge.files.filter((f) => !choices[f.path]).map((f) => f.path);
  if (missing.length > 0) return { missing };
  const resolutions = merge.files.map((f) => {
    const choice = choices[f.path] as ConflictChoice;
    return 'take' in choice ? { path: f.path, take: choice.take } : { path: f.path, text: choice.text };
  });
  return { request: { resolutions } };
}

/** How a side of a conflict is shown: its text, or that the file is absent there. */
export function sideText(text: string | null, omitted?: boolean): string {
  if (omitted) return '(too large to show here)';
  return text === null ? '(no such file on this side)' : text;
}
