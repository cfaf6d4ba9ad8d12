/** Where each exercise's answer buffer is kept between visits: `{ [exerciseId]: { text, usedAt } }`. */
const STORAGE_KEY = 'taidon.exercises';
/** Exercises whose buffers are kept (the least recently opened go first). */
export const MAX_EXERCISE_BUFFERS = 50;
/** Characters kept of one buffer (as a tab keeps). */
export const MAX_EXERCISE_BUFFER_CHARS = 256 * 1024;

type Saved = Record<string, { text: string; usedAt: number }>;

function read(storage: Storage): Saved {
  try {
    const parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Saved) : {};
  } catch {
    return {};
  }
}

/** The learner's buffer of an exercise, or undefined on a first visit. */
export function loadExerciseBuffer(id: string, storage: Storage = localStorage): string | undefined {
  const entry = read(storage)[id];
  return typeof entry?.text === 'string' ? entry.text : undefined;
}

/** Keeps the buffer of an exercise, bounded in size and in how many exercises are kept. */
export function saveExerciseBuffer(
  id: string,
  text: string,
  storage: Storage = localStorage,
  nowMs = Date.now(),
): void {
  const saved = read(storage);
  saved[id] = { text: text.slice(0, MAX_EXERCISE_BUFFER_CHARS), usedAt: nowMs };
  const kept = Object.entries(saved)
    .sort((a, b) => b[1].usedAt - a[1].usedAt)
    .slice(0, MAX_EXERCISE_BUFFERS);
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // A full storage loses only this save: the buffer is still in the editor.
  }
}
