import type { ResultSetView } from '../run/run-model.js';

/** The file formats a result set downloads as. */
export type DownloadFormat = 'csv' | 'json';

/** Rows turned into text per part of the file: small enough to keep the page responsive between parts. */
export const DOWNLOAD_CHUNK_ROWS = 5_000;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF,
 * quotes doubled. NULL is an empty field and the empty string a quoted empty
 * field (`""`), so the two stay apart when read back.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** The result as CSV text in parts of `chunkRows` rows: a header line, then the rows, each line ended by CRLF. */
export function* csvParts(result: ResultSetView, chunkRows = DOWNLOAD_CHUNK_ROWS): Generator<string> {
  yield `${result.columns.map((c) => csvField(c.name)).join(',')}\r\n`;
  for (let i = 0; i < result.rows.length; i += chunkRows) {
    let part = '';
    for (const row of result.rows.slice(i, i + chunkRows)) part += `${row.map(csvField).join(',')}\r\n`;
    yield part;
  }
}

/** Column names as JSON keys: a repeated name (`?column?` twice) gets ` (2)`, ` (3)` … so no value is lost. */
export function jsonKeys(result: ResultSetView): string[] {
  const seen = new Map<string, number>();
  return result.columns.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    return n === 1 ? c.name : `${c.name} (${n})`;
  });
}

/**
 * The result as a JSON array of objects (one per row, keyed by column name),
 * in parts of `chunkRows` rows. Values stay PostgreSQL's text (or null): a
 * bigint or numeric turned into a JSON number could lose digits.
 */
export function* jsonParts(result: ResultSetView, chunkRows = DOWNLOAD_CHUNK_ROWS): Generator<string> {
  const keys = jsonKeys(result).map((k) => JSON.stringify(k));
  const object = (row: (string | null)[]) =>
    `{${keys.map((k, i) => `${k}:${JSON.stringify(row[i] ?? null)}`).join(',')}}`;
  yield '[';
  for (let i = 0; i < result.rows.length; i += chunkRows) {
    const part = result.rows.slice(i, i + chunkRows).map(object);
    yield `${i === 0 ? '\n' : ',\n'}${part.join(',\n')}`;
  }
  yield '\n]\n';
}

/**
 * Builds the file from the rows the page holds, part by part, into a Blob of
 * parts (no single string of the whole file), giving the page a turn between
 * parts so scrolling and typing go on meanwhile (ADR 0032).
 */
export async function resultFile(
  result: ResultSetView,
  format: DownloadFormat,
  onProgress?: (rowsDone: number) => void,
): Promise<Blob> {
  const parts: string[] = [];
  let rows = 0;
  for (const part of format === 'csv' ? csvParts(result) : jsonParts(result)) {
    parts.push(part);
    rows = Math.min(result.rows.length, rows + DOWNLOAD_CHUNK_ROWS);
    onProgress?.(rows);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const type = format === 'csv' ? 'text/csv;charset=utf-8' : 'application/json';
  return new Blob(parts, { type });
}

/** Hands a Blob to the browser as a download named `name`. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once click() returned; a minute's grace costs nothing.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file name for a result: `taidon-result-1-20261205-0812.csv`. */
export function downloadName(index: number, format: DownloadFormat, at = new Date()): string {
  const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `taidon-result-${index + 1}-${stamp}.${format}`;
}
