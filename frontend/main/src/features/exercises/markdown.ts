/**
 * A small Markdown reader for exercise tasks: headings, paragraphs, lists,
 * fenced code, quotes, rules; inline code, strong, emphasis and links. It
 * answers a tree of plain values that Markdown.tsx turns into React
 * elements, so every character of the author's text reaches the page as
 * text: raw HTML is shown as written, never interpreted, and a link is kept
 * only when it is http(s), a path on this site or an anchor.
 */

/** An inline piece of a block. */
export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'link'; href: string; children: Inline[] }
  | { kind: 'break' };

/** A block of the text. */
export type Block =
  | { kind: 'heading'; level: number; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'code'; language: string; text: string }
  | { kind: 'quote'; children: Inline[] }
  | { kind: 'rule' };

/** Blocks read at most: a task is 64 KiB, this bounds the tree a hostile one makes. */
const MAX_BLOCKS = 2000;
/** Nesting of strong, emphasis and links read at most. */
const MAX_DEPTH = 8;

const SAFE_HREF = /^(https?:\/\/|\/(?!\/)|#)/i;

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^(```|~~~)\s*([\w+-]*)\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;

/** Reads `text` as Markdown into blocks. */
export function parseMarkdown(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length && blocks.length < MAX_BLOCKS) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && (lines[i] ?? '').trim() !== fence[1]) body.push(lines[i++] ?? '');
      i++;
      blocks.push({ kind: 'code', language: fence[2] ?? '', text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: heading[1]?.length ?? 1, children: parseInline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ kind: 'rule' });
      i++;
      continue;
    }
    const listKind = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : undefined;
    if (listKind) {
      const items: Inline[][] = [];
      while (i < lines.length) {
        const item = listKind.exec(lines[i] ?? '');
        if (!item) break;
        items.push(parseInline(item[1] ?? ''));
        i++;
      }
      blocks.push({ kind: 'list', ordered: listKind === NUMBERED, items });
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i] ?? '')) quoted.push(QUOTE.exec(lines[i++] ?? '')?.[1] ?? '');
      blocks.push({ kind: 'quote', children: parseInline(quoted.join('\n')) });
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && !startsBlock(lines[i] ?? '')) paragraph.push(lines[i++] ?? '');
    blocks.push({ kind: 'paragraph', children: parseInline(paragraph.join('\n')) });
  }
  return blocks;
}

function startsBlock(line: string): boolean {
  return (
    line.trim() === '' ||
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    BULLET.test(line) ||
    NUMBERED.test(line) ||
    QUOTE.test(line)
  );
}

/** Reads the inline pieces of one block's text. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') out.push({ kind: 'text', text: plain });
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text[i] ?? '';
    if (ch === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!>]/.test(text[i + 1] ?? '')) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const ticks = /^`+/.exec(rest)?.[0] ?? '`';
      const end = text.indexOf(ticks, i + ticks.length);
      if (end > 0) {
        flush();
        out.push({ kind: 'code', text: text.slice(i + ticks.length, end).replace(/^ (.*) $/, '$1') });
        i = end + ticks.length;
        continue;
      }
    }
    if (depth < MAX_DEPTH) {
      const strong = /^(\*\*|__)(?=\S)([\s\S]*?\S)\1/.exec(rest);
      if (strong) {
        flush();
        out.push({ kind: 'strong', children: parseInline(strong[2] ?? '', depth + 1) });
        i += strong[0].length;
        continue;
      }
      const em = /^([*_])(?=\S)([\s\S]*?\S)\1/.exec(rest);
      if (em && !(em[1] === '_' && /\w/.test(text[i - 1] ?? ''))) {
        flush();
        out.push({ kind: 'em', children: parseInline(em[2] ?? '', depth + 1) });
        i += em[0].length;
        continue;
      }
      const link = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(rest);
      if (link) {
        flush();
        const children = parseInline(link[1] ?? '', depth + 1);
        const href = link[2] ?? '';
        if (SAFE_HREF.test(href)) out.push({ kind: 'link', href, children });
        else out.push(...children);
        i += link[0].length;
        continue;
      }
    }
    if (ch === '\n') {
      // Two trailing spaces or a backslash end a line inside a paragraph; a lone newline is a space.
      if (plain.endsWith('  ')) {
        plain = plain.trimEnd();
        flush();
        out.push({ kind: 'break' });
      } else plain += ' ';
      i++;
      continue;
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
}
