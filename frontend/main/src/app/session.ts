const KEY = 'taidon.session';

/** The learner session runs continue in; kept across reloads. */
export function loadSessionId(): string {
  const saved = localStorage.getItem(KEY);
  if (saved) return saved;
  return newSessionId();
}

/** Starts a new session: the next run gets a clean instance (from the tail, or empty). */
export function newSessionId(): string {
  const id = crypto.randomUUID();
  localStorage.setItem(KEY, id);
  return id;
}
