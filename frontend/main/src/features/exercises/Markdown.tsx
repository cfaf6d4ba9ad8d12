import { type ReactNode, useMemo } from 'react';
import { type Block, type Inline, parseMarkdown } from './markdown.js';

function inline(node: Inline, key: number): ReactNode {
  switch (node.kind) {
    case 'text':
      return node.text;
    case 'code':
      return <code key={key}>{node.text}</code>;
    case 'strong':
      return <strong key={key}>{inlines(node.children)}</strong>;
    case 'em':
      return <em key={key}>{inlines(node.children)}</em>;
    case 'link':
      return (
        <a key={key} href={node.href} target="_blank" rel="noopener noreferrer">
          {inlines(node.children)}
        </a>
      );
    case 'break':
      return <br key={key} />;
  }
}

/** Positions are the keys: a task's pieces never move once read. */
function inlines(nodes: Inline[]): ReactNode[] {
  return nodes.map(inline);
}

function block(node: Block, key: number): ReactNode {
  switch (node.kind) {
    case 'heading': {
      // A task sits under the exercise's own title (h2): its headings start one level lower.
      const level = Math.min(node.level + 2, 6);
      const Tag = `h${level}` as 'h3';
      return <Tag key={key}>{inlines(node.children)}</Tag>;
    }
    case 'paragraph':
      return <p key={key}>{inlines(node.children)}</p>;
    case 'list': {
      // biome-ignore lint/suspicious/noArrayIndexKey: the items of a task never move once read
      const items = node.items.map((item, i) => <li key={i}>{inlines(item)}</li>);
      return node.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
    }
    case 'code':
      return (
        <pre key={key} data-language={node.language || undefined}>
          <code>{node.text}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={key}>{inlines(node.children)}</blockquote>;
    case 'rule':
      return <hr key={key} />;
  }
}

/** A task's Markdown as React elements: text only, never the author's HTML (markdown.ts). */
export function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => parseMarkdown(text), [text]);
  return <div className="markdown">{blocks.map(block)}</div>;
}
