import { IDENT_CONT, IDENT_START, numberEnd, OP_CHARS, quoteContinuation, SPACE } from './psql-rules.js';
import { StatementText } from './statement-text.js';
import { isVariableChar, quoteIdentifier, quoteLiteral, type Variables } from './variables.js';

/** What stopped the lexer: a statement-ending ';', a meta-command's backslash, or the end of the file. */
export type LexResult =
  | { kind: 'semicolon'; statement: StatementText; end: number }
  | { kind: 'backslash'; statement: StatementText; at: number }
  | { kind: 'eof'; statement: StatementText; end: number };

/** Lexer states, named after psqlscan.l's exclusive start conditions. */
enum State {
  Initial,
  Comment, // xc
  Quote, // xq, xus
  Bits, // xb, xh
  Escape, // xe
  Ident, // xd, xui
  Dollar, // xdolq
}

/** Text substituted for a `:name` reference, lexed before the file resumes (psql's buffer stack). */
interface Frame {
  text: string;
  pos: number;
  name: string;
  /** File index of the outermost reference, which every character of the frame maps to. */
  referenceStart: number;
}

const FUNCTION_WORDS = new Set(['create', 'function', 'procedure', 'or', 'replace']);

/**
 * A port of psql's SQL lexer (src/fe_utils/psqlscan.l): it decides, exactly as
 * psql does, where a statement ends — a top-level ';' outside quotes,
 * comments, dollar quotes, parentheses and BEGIN ... END bodies of CREATE
 * FUNCTION/PROCEDURE — and where a meta-command starts. It also performs
 * psql's `:var` substitution; raw values are lexed again, like psql does.
 * It works on the whole file, but reproduces psql's line-at-a-time reading
 * where that matters (string continuation never spans a '\n').
 */
export class PsqlLexer {
  private readonly source: string;
  private readonly variables: Variables;
  private pos = 0;
  private frames: Frame[] = [];
  private state = State.Initial;
  private parenDepth = 0;
  private beginDepth = 0;
  private commentDepth = 0;
  private dollarTag = '';
  private identifierCount = 0;
  private identifiers = ['', '', '', ''];
  private statement = new StatementText();
  private readonly charge: (length: number, referenceStart: number) => void;

  /**
   * `charge` is told the length of every value about to be substituted, and
   * the file index of its outermost reference, before the lexer reads it:
   * the chain's budget refuses it there, so no expansion is built past a limit.
   */
  constructor(source: string, variables: Variables, charge: (length: number, referenceStart: number) => void) {
    this.source = source;
    this.variables = variables;
    this.charge = charge;
  }

  /** File index the lexer has reached. */
  sourcePosition(): number {
    return this.pos;
  }

  /** Continues lexing at file index `pos` (after a meta-command or COPY data). */
  resumeAt(pos: number): void {
    this.pos = pos;
  }

  private get text(): string {
    return this.frames[this.frames.length - 1]?.text ?? this.source;
  }

  private get at(): number {
    return this.frames[this.frames.length - 1]?.pos ?? this.pos;
  }

  private advance(to: number, token: boolean): void {
    const frame = this.frames[this.frames.length - 1];
    if (frame) {
      this.statement.addSubstituted(frame.text.slice(frame.pos, to), frame.referenceStart, token);
      frame.pos = to;
    } else {
      this.statement.addSource(this.source, this.pos, to, token);
      this.pos = to;
    }
  }

  private skip(to: number): void {
    const frame = this.frames[this.frames.length - 1];
    if (frame) frame.pos = to;
    else this.pos = to;
  }

  /** Lexes until a statement-ending ';', a backslash, or the end of the file. */
  next(): LexResult {
    for (;;) {
      const frame = this.frames[this.frames.length - 1];
      if (frame && frame.pos >= frame.text.length) {
        this.frames.pop();
        continue;
      }
      if (!frame && this.pos >= this.source.length) {
        const statement = this.takeStatement();
        return { kind: 'eof', statement, end: this.pos };
      }
      const stop = this.step();
      if (stop) return stop;
    }
  }

  private takeStatement(): StatementText {
    const statement = this.statement;
    this.statement = new StatementText();
    return statement;
  }

  private step(): LexResult | undefined {
    switch (this.state) {
      case State.Initial:
        return this.lexInitial();
      case State.Comment:
        this.lexComment();
        return undefined;
      case State.Quote:
      case State.Bits:
      case State.Escape:
        this.lexQuoted();
        return undefined;
      case State.Ident:
        this.lexIdent();
        return undefined;
      case State.Dollar:
        this.lexDollar();
        return undefined;
    }
  }

  private lexComment(): void {
    const text = this.text;
    let i = this.at;
    while (i < text.length) {
      const c = text[i];
      if (c === '/' && text[i + 1] === '*') {
        this.commentDepth++;
        i += 2;
      } else if (c === '*' && text[i + 1] === '/') {
        i += 2;
        if (this.commentDepth-- === 0) {
          this.state = State.Initial;
          break;
        }
      } else i++;
    }
    this.advance(i, false);
  }

  private lexQuoted(): void {
    const text = this.text;
    let i = this.at;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\' && this.state === State.Escape) {
        i += 2;
      } else if (c === "'") {
        if (text[i + 1] === "'" && this.state !== State.Bits) {
          i += 2;
          continue;
        }
        const resume = quoteContinuation(text, i + 1);
        if (resume === -1) {
          this.advance(i + 1, true);
          this.state = State.Initial;
          return;
        }
        i = resume;
      } else i++;
    }
    this.advance(Math.min(i, text.length), true);
  }

  private lexIdent(): void {
    const text = this.text;
    let i = this.at;
    while (i < text.length) {
      if (text[i] === '"') {
        if (text[i + 1] === '"') {
          i += 2;
          continue;
        }
        this.advance(i + 1, true);
        this.state = State.Initial;
        return;
      }
      i++;
    }
    this.advance(i, true);
  }

  private lexDollar(): void {
    const text = this.text;
    let i = this.at;
    for (;;) {
      i = text.indexOf('$', i);
      if (i === -1) {
        this.advance(text.length, true);
        return;
      }
      if (text.startsWith(this.dollarTag, i)) {
        this.advance(i + this.dollarTag.length, true);
        this.state = State.Initial;
        return;
      }
      i++;
    }
  }

  private lexInitial(): LexResult | undefined {
    const text = this.text;
    const i = this.at;
    const c = text[i] ?? '';
    const d = text[i + 1] ?? '';
    if (SPACE.test(c)) {
      let j = i + 1;
      while (j < text.length && SPACE.test(text[j] ?? '')) j++;
      this.advance(j, false);
    } else if (c === '-' && d === '-') {
      let j = i + 2;
      while (j < text.length && text[j] !== '\n' && text[j] !== '\r') j++;
      this.advance(j, false);
    } else if (c === '/' && d === '*') {
      this.state = State.Comment;
      this.commentDepth = 0;
      this.advance(i + 2, false);
    } else if (c === "'") {
      this.state = State.Quote;
      this.advance(i + 1, true);
    } else if ((c === 'e' || c === 'E') && d === "'") {
      this.state = State.Escape;
      this.advance(i + 2, true);
    } else if ((c === 'b' || c === 'B' || c === 'x' || c === 'X') && d === "'") {
      this.state = State.Bits;
      this.advance(i + 2, true);
    } else if ((c === 'n' || c === 'N') && d === "'") {
      this.advance(i + 1, true); // xnstart eats only the 'n'
    } else if ((c === 'u' || c === 'U') && d === '&') {
      const q = text[i + 2];
      if (q === "'") this.state = State.Quote;
      else if (q === '"') this.state = State.Ident;
      this.advance(q === "'" || q === '"' ? i + 3 : i + 1, true);
    } else if (c === '"') {
      this.state = State.Ident;
      this.advance(i + 1, true);
    } else if (c === '$') {
      this.lexDollarStart(text, i);
    } else if (c === '(') {
      this.parenDepth++;
      this.advance(i + 1, true);
    } else if (c === ')') {
      if (this.parenDepth > 0) this.parenDepth--;
      this.advance(i + 1, true);
    } else if (c === ';') {
      const fromSource = this.frames.length === 0;
      this.advance(i + 1, false);
      if (this.parenDepth === 0 && this.beginDepth === 0) {
        this.identifierCount = 0;
        return { kind: 'semicolon', statement: this.takeStatement(), end: fromSource ? i + 1 : this.pos };
      }
    } else if (c === '\\') {
      if (d === ':') {
        this.skip(i + 1);
        this.advance(i + 2, true);
      } else return { kind: 'backslash', statement: this.statement, at: this.frames.length ? -1 : i };
    } else if (c === ':') {
      this.lexColon(text, i);
    } else if (c >= '0' && c <= '9') {
      this.advance(numberEnd(text, i), true);
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_CONT.test(text[j] ?? '')) j++;
      this.countIdentifier(text.slice(i, j));
      this.advance(j, true);
    } else if (OP_CHARS.includes(c)) {
      let j = i + 1;
      while (j < text.length && OP_CHARS.includes(text[j] ?? '')) {
        if ((text[j] === '-' && text[j + 1] === '-') || (text[j] === '/' && text[j + 1] === '*')) break;
        j++;
      }
      this.advance(j, true);
    } else {
      this.advance(i + 1, true);
    }
    return undefined;
  }

  private lexDollarStart(text: string, i: number): void {
    const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 200));
    if (tag) {
      this.dollarTag = tag[0];
      this.state = State.Dollar;
      this.advance(i + tag[0].length, true);
      return;
    }
    let j = i + 1;
    while (j < text.length && /[0-9]/.test(text[j] ?? '')) j++; // $1 parameter, or a lone '$'
    this.advance(j, true);
  }

  /** psql's BEGIN ... END heuristic for CREATE [OR REPLACE] FUNCTION/PROCEDURE bodies. */
  private countIdentifier(word: string): void {
    if (this.identifierCount === 0) this.identifiers = ['', '', '', ''];
    const lower = word.toLowerCase();
    if (FUNCTION_WORDS.has(lower) && this.identifierCount < 4) this.identifiers[this.identifierCount] = lower[0] ?? '';
    this.identifierCount++;
    const [a, b, c, d] = this.identifiers;
    const isFunction = a === 'c' && (b === 'f' || b === 'p' || (b === 'o' && c === 'r' && (d === 'f' || d === 'p')));
    if (!isFunction || this.parenDepth !== 0) return;
    if (lower === 'begin') this.beginDepth++;
    else if (lower === 'case' && this.beginDepth >= 1) this.beginDepth++;
    else if (lower === 'end' && this.beginDepth > 0) this.beginDepth--;
  }

  private lexColon(text: string, i: number): void {
    const d = text[i + 1] ?? '';
    if (d === ':') {
      this.advance(i + 2, true);
      return;
    }
    let j = i + 1;
    const quote = d === "'" || d === '"' ? d : d === '{' && text[i + 2] === '?' ? '}' : '';
    if (quote) j += d === '{' ? 2 : 1;
    const nameStart = j;
    while (j < text.length && isVariableChar(text.charCodeAt(j))) j++;
    const name = text.slice(nameStart, j);
    if (!name || (quote && text[j] !== quote)) {
      this.advance(i + 1, true); // not a reference: only the ':' is consumed
      return;
    }
    const end = quote ? j + 1 : j;
    const value = this.variables.get(name);
    if (quote === '}') {
      this.substitute(i, end, value === undefined ? 'FALSE' : 'TRUE');
    } else if (value === undefined || (!quote && this.frames.some((f) => f.name === name))) {
      this.advance(end, true);
    } else if (quote) {
      this.substitute(i, end, quote === "'" ? quoteLiteral(value) : quoteIdentifier(value));
    } else {
      const referenceStart = this.frames[0]?.referenceStart ?? i;
      this.charge(value.length, referenceStart);
      this.skip(end);
      this.frames.push({ text: value, pos: 0, name, referenceStart });
    }
  }

  private substitute(from: number, to: number, value: string): void {
    const referenceStart = this.frames[0]?.referenceStart ?? from;
    this.charge(value.length, referenceStart);
    this.skip(to);
    this.statement.addSubstituted(value, referenceStart, true);
  }
}
