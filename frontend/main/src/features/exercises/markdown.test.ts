import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown } from './markdown.js';

describe('the task Markdown reader', () => {
  it('reads headings, paragraphs, lists, code fences, quotes and rules', () => {
    const blocks = parseMarkdown(
      '# Top earner\n\nName the **best paid**\nengineer.\n\n- one\n- two\n\n1. first\n2. second\n\n```sql\nSELECT 1;\n```\n\n> note\n\n---\n',
    );
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'list', 'list', 'code', 'quote', 'rule']);
    expect(blocks[1]).toEqual({
      kind: 'paragraph',
      children: [
        { kind: 'text', text: 'Name the ' },
        { kind: 'strong', children: [{ kind: 'text', text: 'best paid' }] },
        { kind: 'text', text: ' engineer.' },
      ],
    });
    expect(blocks[2]).toMatchObject({ kind: 'list', ordered: false, items: [[{ text: 'one' }], [{ text: 'two' }]] });
    expect(blocks[3]).toMatchObject({ kind: 'list', ordered: true });
    expect(blocks[4]).toEqual({ kind: 'code', language: 'sql', text: 'SELECT 1;' });
  });

  it('keeps raw HTML as text, never as markup', () => {
    const blocks = parseMarkdown('<img src=x onerror="alert(1)"> and <script>alert(2)</script>');
    expect(blocks).toEqual([
      {
        kind: 'paragraph',
        children: [{ kind: 'text', text: '<img src=x onerror="alert(1)"> and <script>alert(2)</script>' }],
      },
    ]);
  });

  it('keeps http(s), site and anchor links and drops the link of any other scheme', () => {
    expect(
      parseInline('[a](https://example.test/x) [b](/exercises) [c](javascript:alert%281%29) [d](data:text/html,x)'),
    ).toEqual([
      { kind: 'link', href: 'https://example.test/x', children: [{ kind: 'text', text: 'a' }] },
      { kind: 'text', text: ' ' },
      { kind: 'link', href: '/exercises', children: [{ kind: 'text', text: 'b' }] },
      { kind: 'text', text: ' ' },
      { kind: 'text', text: 'c' },
      { kind: 'text', text: ' ' },
      { kind: 'text', text: 'd' },
    ]);
  });

  it('reads inline code literally and leaves snake_case names alone', () => {
    expect(parseInline('use `a * b` on first_name_x')).toEqual([
      { kind: 'text', text: 'use ' },
      { kind: 'code', text: 'a * b' },
      { kind: 'text', text: ' on first_name_x' },
    ]);
  });

  it('bounds nesting, so a hostile task cannot nest without end', () => {
    const deep = `${'*'.repeat(200)}x${'*'.repeat(200)}`;
    const depth = (inlines: ReturnType<typeof parseInline>): number =>
      Math.max(0, ...inlines.map((i) => ('children' in i ? 1 + depth(i.children) : 0)));
    expect(depth(parseInline(deep))).toBeLessThanOrEqual(8);
  });
});
