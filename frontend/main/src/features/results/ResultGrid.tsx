// biome-ignore-all lint/a11y/useSemanticElements: a td costs the browser several times a div's style work, and scrolling restyles ~40 rows a frame (ADR 0039)
// biome-ignore-all lint/a11y/useFocusableInteractive: a read-only table (role table, not grid): its rows and headers are read, not operated
import { useVirtualizer } from '@tanstack/react-virtual';
import { type CSSProperties, useLayoutEffect, useRef } from 'react';
import type { ResultSetView } from '../run/run-model.js';

const ROW_HEIGHT_PX = 26;
const NUMBER_WIDTH_PX = 64;

function columnWidth(name: string, type: string): number {
  return Math.min(360, Math.max(96, 9 * Math.max(name.length, type.length) + 24));
}

/**
 * The rows in view in slot order (row index modulo their count): as the view
 * scrolls, each `tr` keeps its place in the DOM and gets new text and a new
 * offset. Keyed by row, ~40 rows a frame would be created (or, keyed by slot
 * in row order, moved), and the browser computes the style and layout of
 * every such element anew: 18 ms a frame on a loaded machine, 20 frames/s.
 */
function bySlot<T extends { index: number }>(items: T[]): (T & { slot: number })[] {
  const slots = new Array<T & { slot: number }>(items.length);
  for (const item of items) {
    const slot = item.index % items.length;
    slots[slot] = { ...item, slot };
  }
  return slots;
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
 * rows scroll as smoothly as 10. Rows are absolutely positioned, laid out as
 * CSS grids of one column template (a CSS variable on the table), so header
 * and cells line up without measuring. Elements are `div`s with the ARIA
 * table roles: a `td` costs the browser several times a `div`'s style work,
 * and scrolling restyles ~40 rows a frame (ADR 0039).
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
    // Few rows past the edges: each is restyled in every frame of a fast scroll.
    overscan: 4,
  });

  useLayoutEffect(() => {
    if (painted.current || result.rows.length === 0 || !onFirstRowPainted) return;
    painted.current = true;
    performance.mark('taidon:first-row-rendered');
    // Asked for in the commit (not in a passive effect, which may run after a frame was drawn):
    // the next frame is the one that shows the row.
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
      <div
        className="grid"
        role="table"
        aria-label={label}
        aria-rowcount={result.rows.length + 1}
        style={{ width: totalWidth, '--grid-columns': template } as CSSProperties}
      >
        <div className="grid-header" role="rowgroup">
          <div className="grid-header-row" role="row" aria-rowindex={1}>
            <div className="grid-cell grid-number" role="columnheader">
              #
            </div>
            {result.columns.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional and may share a name
              <div className="grid-cell" role="columnheader" key={i} title={`${c.name} ${c.type}`}>
                <span className="column-name">{c.name}</span>
                <span className="column-type">{c.type}</span>
              </div>
            ))}
          </div>
        </div>
        <div className="grid-body" role="rowgroup" style={{ height: virtualizer.getTotalSize() }}>
          {bySlot(virtualizer.getVirtualItems()).map((item) => {
            const row = result.rows[item.index] ?? [];
            return (
              <div
                key={item.slot}
                className="grid-row"
                role="row"
                aria-rowindex={item.index + 2}
                data-testid="result-row"
                data-row={item.index + 1}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT_PX }}
              >
                <div className="grid-cell grid-number" role="rowheader">
                  {item.index + 1}
                </div>
                {row.map((value, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
                  <div className="grid-cell" role="cell" key={i}>
                    {value === null ? <span className="null">NULL</span> : value}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
