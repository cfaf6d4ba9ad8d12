import type { ChainErrorLocation } from './errors.js';

/** A point of a file in the units callers need: lines, code points and UTF-8 bytes. */
export interface SourcePoint {
  /** 1-based line. */
  line: number;
  /** 1-based column in Unicode code points, like PostgreSQL's error position. */
  column: number;
  /** 0-based UTF-8 byte offset in the file. */
  byteOffset: number;
  /** 1-based code-point offset in the file. */
  position: number;
}

function utf8Width(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) return 4; // high surrogate carries the whole pair
  if (code >= 0xdc00 && code <= 0xdfff) return 0;
  return 3;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * One file's text with an index of its lines, so that a UTF-16 index (what
 * the lexer works with) turns into line, code-point column and byte offset.
 * Lookups are expected in mostly increasing order; a cursor per line keeps
 * a file with one huge line linear.
 */
export class SourceText {
  readonly path: string;
  readonly text: string;
  private readonly lineStarts: number[] = [0];
  private readonly lineBytes: number[] = [0];
  private readonly lineCodePoints: number[] = [0];
  private cursor = { line: -1, index: 0, bytes: 0, codePoints: 0 };

  constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
    let bytes = 0;
    let codePoints = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      bytes += utf8Width(code);
      if (!isLowSurrogate(code)) codePoints++;
      if (code === 10) {
        this.lineStarts.push(i + 1);
        this.lineBytes.push(bytes);
        this.lineCodePoints.push(codePoints);
      }
    }
  }

  private lineOf(index: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Line, column, byte offset and position of the UTF-16 index `index`. */
  point(index: number): SourcePoint {
    const line = this.lineOf(index);
    let from = this.lineStarts[line] ?? 0;
    let bytes = 0;
    let codePoints = 0;
    if (this.cursor.line === line && this.cursor.index <= index) {
      from = this.cursor.index;
      bytes = this.cursor.bytes;
      codePoints = this.cursor.codePoints;
    }
    for (let i = from; i < index; i++) {
      const code = this.text.charCodeAt(i);
      bytes += utf8Width(code);
      if (!isLowSurrogate(code)) codePoints++;
    }
    this.cursor = { line, index, bytes, codePoints };
    return {
      line: line + 1,
      column: codePoints + 1,
      byteOffset: (this.lineBytes[line] ?? 0) + bytes,
      position: (this.lineCodePoints[line] ?? 0) + codePoints + 1,
    };
  }

  /** The location an error reports for the UTF-16 index `index`. */
  location(index: number): ChainErrorLocation {
    const { line, column, position } = this.point(index);
    return { path: this.path, line, column, position };
  }

  /** UTF-16 index of the end of the line holding `index` (the '\n', or the end of text). */
  lineEnd(index: number): number {
    const end = this.text.indexOf('\n', index);
    return end === -1 ? this.text.length : end;
  }
}
