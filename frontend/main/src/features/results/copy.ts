import type { ResultSetView } from '../run/run-model.js';
import { csvField } from './download.js';

/** Formats a result set for the clipboard. */
export type CopyFormat = 'csv' | 'tsv' | 'markdown';

const tsvCell = (v: string | null) =>
  v === null ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
const mdCell = (v: string | null) => (v === null ? '*NULL*' : v.replace(/\|/g, '\\|').replace(/\n/g, ' '));

/**
 * The result set as text: CSV (RFC 4180 quoting, NULL as an empty field, the empty string as `""`), TSV (COPY
 * text style, NULL as \N) or a Markdown table (NULL in italics).
 */
export function formatResult(result: ResultSetView, format: CopyFormat): string {
  const names = result.columns.map((c) => c.name);
  if (format === 'csv') return [names, ...result.rows].map((r) => r.map(csvField).join(',')).join('\n');
  if (format === 'tsv')
    return [names.map(tsvCell), ...result.rows.map((r) => r.map(tsvCell))].map((r) => r.join('\t')).join('\n');
  const header = `| ${names.map(mdCell).join(' | ')} |`;
  const rule = `| ${names.map(() => '---').join(' | ')} |`;
  return [header, rule, ...result.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

/** Writes text to the clipboard, with a fallback where the async clipboard is refused. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}
