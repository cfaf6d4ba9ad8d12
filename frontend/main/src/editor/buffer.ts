/**
 * The line that separates the tail (above: the state every run starts from)
 * from the head (below: what runs now). Kept in the text itself so it
 * survives reloads, copy and paste, and shows in any editor.
 */
export const HEAD_MARKER = '-- @head';

/** The buffer cut into tail and head, with where each starts (0-based offsets and 1-based lines). */
export interface BufferParts {
  tail: string;
  head: string;
  /** Offset of the head's first character in the buffer. */
  headOffset: number;
  /** 1-based line of the marker; 0 when there is no tail. */
  markerLine: number;
}

/** Cuts the buffer at its `-- @head` line; without one, everything is head. */
export function partsOf(text: string): BufferParts {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.trim() === HEAD_MARKER);
  if (index < 0) return { tail: '', head: text, headOffset: 0, markerLine: 0 };
  const tail = lines.slice(0, index).join('\n');
  const headOffset = lines.slice(0, index + 1).join('\n').length + 1;
  return { tail, head: text.slice(headOffset), headOffset: Math.min(headOffset, text.length), markerLine: index + 1 };
}

/**
 * 1-based line and column of a 0-based offset inside `text` (clamped to its end), as Monaco counts them.
 * Pure, so the page places a problem in the buffer it belongs to whichever buffer the editor shows.
 */
export function positionIn(text: string, offset: number): { line: number; column: number } {
  const at = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let eol = text.indexOf('\n'); eol >= 0 && eol < at; eol = text.indexOf('\n', eol + 1)) {
    line++;
    lineStart = eol + 1;
  }
  return { line, column: at - lineStart + 1 };
}

/** 0-based offset of a 1-based line and column inside `text`. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const eol = text.indexOf('\n', offset);
    if (eol < 0) return text.length;
    offset = eol + 1;
  }
  return Math.min(offset + column - 1, text.length);
}

/** The buffer with the marker moved to just above `line` (1-based), or removed when `line` is 0. */
export function withMarkerAt(text: string, line: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== HEAD_MARKER);
  if (line <= 0) return lines.join('\n');
  const before = text
    .split('\n')
    .slice(0, line - 1)
    .filter((l) => l.trim() === HEAD_MARKER).length;
  const at = Math.min(Math.max(line - 1 - before, 0), lines.length);
  lines.splice(at, 0, HEAD_MARKER);
  return lines.join('\n');
}
