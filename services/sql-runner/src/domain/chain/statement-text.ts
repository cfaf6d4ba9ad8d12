/** A run of the statement text and where it came from in its file. */
interface Piece {
  /** Start of the piece in the statement text (UTF-16). */
  outStart: number;
  text: string;
  /** Start of the piece in the file (UTF-16), or of the `:var` reference it was substituted for. */
  sourceStart: number;
  /** True when the text is a verbatim copy of the file at sourceStart. */
  verbatim: boolean;
}

/**
 * The text of one statement as the server will receive it, built from runs
 * of the file and `:var` substitutions, remembering for each character where
 * in the file it came from (so parser positions map back to lines and
 * columns). Leading whitespace and comments are not part of it, nor are
 * trailing ones: only text up to the last token counts.
 */
export class StatementText {
  private readonly pieces: Piece[] = [];
  private length = 0;
  /** Length of the text up to and including the last token. */
  private committed = 0;
  /** File index of the first token, or -1 while there is none. */
  start = -1;

  /** True once a token (not only whitespace or comments) was added. */
  get hasContent(): boolean {
    return this.start !== -1;
  }

  /** Adds a verbatim run of the file; `token` is false for whitespace and comments. */
  addSource(source: string, from: number, to: number, token: boolean): void {
    if (from >= to) return;
    if (!this.hasContent) {
      if (!token) return;
      this.start = from;
    }
    const last = this.pieces[this.pieces.length - 1];
    if (last?.verbatim && last.sourceStart + last.text.length === from) {
      last.text += source.slice(from, to);
    } else {
      this.pieces.push({ outStart: this.length, text: source.slice(from, to), sourceStart: from, verbatim: true });
    }
    this.length += to - from;
    if (token) this.committed = this.length;
  }

  /** Adds text that replaced the reference starting at file index `referenceStart`. */
  addSubstituted(text: string, referenceStart: number, token: boolean): void {
    if (text.length === 0) return;
    if (!this.hasContent) {
      if (!token) return;
      this.start = referenceStart;
    }
    // Every character of a substitution maps to its reference, so consecutive runs of one reference are one
    // piece: a value of a million tokens costs one piece, not a million.
    const last = this.pieces[this.pieces.length - 1];
    if (last && !last.verbatim && last.sourceStart === referenceStart) last.text += text;
    else this.pieces.push({ outStart: this.length, text, sourceStart: referenceStart, verbatim: false });
    this.length += text.length;
    if (token) this.committed = this.length;
  }

  /** The statement text, without trailing whitespace and comments. */
  toString(): string {
    let out = '';
    for (const piece of this.pieces) {
      if (piece.outStart >= this.committed) break;
      out += piece.text.slice(0, this.committed - piece.outStart);
    }
    return out;
  }

  /** File index of the character at UTF-16 index `offset` of the statement text. */
  sourceIndex(offset: number): number {
    let found: Piece | undefined;
    for (const piece of this.pieces) {
      if (piece.outStart > offset) break;
      found = piece;
    }
    if (!found) return this.start;
    if (!found.verbatim) return found.sourceStart;
    return found.sourceStart + Math.min(offset - found.outStart, found.text.length);
  }
}
