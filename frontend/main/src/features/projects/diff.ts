/** One line of a unified diff, classified for colouring. */
export interface DiffLine {
  kind: 'file' | 'hunk' | 'add' | 'del' | 'context' | 'meta';
  text: string;
}

/** The files of a unified patch (as `git diff` prints it), each with its lines classified. */
export function parsePatch(patch: string): { path: string; lines: DiffLine[] }[] {
  const files: { path: string; lines: DiffLine[] }[] = [];
  let current: { path: string; lines: DiffLine[] } | undefined;
  for (const text of patch.split('\n')) {
    const header = /^diff --git a\/(.*) b\/(.*)$/.exec(text);
    if (header) {
      current = { path: header[2] ?? '', lines: [] };
      files.push(current);
      continue;
    }
    if (!current) continue;
    let kind: DiffLine['kind'];
    if (text.startsWith('+++ ') || text.startsWith('--- ')) kind = 'file';
    else if (text.startsWith('@@')) kind = 'hunk';
    else if (text.startsWith('+')) kind = 'add';
    else if (text.startsWith('-')) kind = 'del';
    else if (text.startsWith(' ') || text === '') kind = 'context';
    else kind = 'meta';
    current.lines.push({ kind, text });
  }
  for (const file of files) {
    // The patch's last newline leaves one empty context line behind.
    const last = file.lines[file.lines.length - 1];
    if (last?.kind === 'context' && last.text === '') file.lines.pop();
  }
  return files;
}
