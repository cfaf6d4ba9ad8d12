import { positionIn } from '../editor/buffer.js';
import type { Problem } from './plan-markers.js';

/**
 * Under the editor: each problem with its line and column in `text`, the buffer the problems belong to (the
 * markers, in words), else the plan's summary.
 */
export function ProblemsBar({
  problems,
  planSummary,
  text,
}: {
  problems: Problem[];
  planSummary: string;
  text: string;
}) {
  return (
    <section className="problems" aria-label="Problems" data-testid="problems">
      {problems.length === 0 ? (
        <span className="muted">{planSummary ? `Plan: ${planSummary}` : 'No problems.'}</span>
      ) : (
        problems.map((p) => {
          const at = positionIn(text, p.offset);
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
