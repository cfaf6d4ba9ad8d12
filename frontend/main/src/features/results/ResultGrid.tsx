import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import type { ResultSetView } from '../run/run-model.js';

const ROW_HEIGHT_PX = 26;
const NUMBER_WIDTH_PX = 64;

function columnWidth(name: string, type: string): number {
  return Math.min(360, Math.max(96, 9 * Math.max(name.length, type.length) + 24));
}

interface Props {
  result: ResultSetView;
  /** Bumped while rows stream in. */
  version: number;
  label: string;
  /** Called once, after the first row has been painted. */
  onFirstRowPainted?: (() => void) | undefined;
}

/**
 * A virtualized table: only the rows in view are in the DOM, so 100,000
 * rows scroll as smoothly as 10. Rows are absolutely positioned `tr`s laid
 * out as CSS grids, so header and cells line up without measuring.
 */
export function ResultGrid({ result, version, label, onFirstRowPainted }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const painted = useRef(false);
  const widths = result.columns.map((c) => columnWidth(c.name, c.type));
  const template = `${NUMBER_WIDTH_PX}px ${widths.map((w) => `${w}px`).join(' ')}`;
  const totalWidth = NUMBER_WIDTH_PX + widths.reduce((a, b) => a + b, 0);
  const virtualizer = useVirtualizer({
    count: result.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT_PX,
    overscan: 12,
  });

  useEffect(() => {
    if (painted.current || result.rows.length === 0 || !onFirstRowPainted) return;
    painted.current = true;
    // After the commit, the next frame is the one that shows the row.
    requestAnimationFrame(() => onFirstRowPainted());
  });

  return (
    <div
      ref={scroller}
      className="grid-scroller"
      data-testid="result-grid"
      data-rows={result.rows.length}
      data-version={version}
    >
      <table className="grid" aria-label={label} aria-rowcount={result.rows.length + 1} style={{ width: totalWidth }}>
        <thead className="grid-header">
          <tr style={{ gridTemplateColumns: template }}>
            <th className="grid-cell grid-number" scope="col">
              #
            </th>
            {result.columns.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional and may share a name
              <th className="grid-cell" scope="col" key={i} title={`${c.name} ${c.type}`}>
                <span className="column-name">{c.name}</span>
                <span className="column-type">{c.type}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = result.rows[item.index] ?? [];
            return (
              <tr
                key={item.key}
                className="grid-row"
                aria-rowindex={item.index + 2}
                data-testid="result-row"
                data-row={item.index + 1}
                style={{
                  gridTemplateColumns: template,
                  transform: `translateY(${item.start}px)`,
                  height: ROW_HEIGHT_PX,
                }}
              >
                <th className="grid-cell grid-number" scope="row">
                  {item.index + 1}
                </th>
                {row.map((value, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
                  <td className="grid-cell" key={i}>
                    {value === null ? <span className="null">NULL</span> : value}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
