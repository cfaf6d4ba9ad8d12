import type { RefObject } from 'react';
import type { SqlEditorHandle } from '../editor/SqlEditor.js';
import type { Problem } from './plan-markers.js';

/** Under the editor: each problem with its line and column (the markers, in words), else the plan's summary. */
export function ProblemsBar({
  problems,
  planSummary,
  editor,
}: {
  problems: Problem[];
  planSummary: string;
  editor: RefObject<SqlEditorHandle | null>;
}) {
  return (
    <section className="problems" aria-label="Problems" data-testid="problems">
      {problems.length === 0 ? (
        <span className="muted">{planSummary ? `Plan: ${planSummary}` : 'No problems.'}</span>
      ) : (
        problems.map((p) => {
          const at = editor.current?.positionOf(p.offset) ?? { line: 0, column: 0 };
          return (
            <div
              key={`${p.source}:${p.offset}`}
              className="problem"
              data-testid="problem"
              data-line={at.line}
              data-column={at.column}
              data-source={p.source}
            >
              Line {at.line}, column {at.column}: {p.message}
            </div>
          );
        })
      )}
    </section>
  );
}
