// biome-ignore-all lint/a11y/useSemanticElements: a td costs the browser several times a div's style work, and scrolling restyles ~40 rows a frame (ADR 0039)
// biome-ignore-all lint/a11y/useFocusableInteractive: a read-only table (role table, not grid): its rows and headers are read, not operated
import { useVirtualizer } from '@tanstack/react-virtual';
import { type CSSProperties, useLayoutEffect, useRef } from 'react';
import type { ResultSetView } from '../run/run-model.js';

const ROW_HEIGHT_PX = 26;
const NUMBER_WIDTH_PX = 64;

/**
 * The size of the last grid's scroller: a new run's grid starts from it, so its first render holds the rows in
 * view. Started from no size, the virtualizer rendered no row, measured the scroller in the commit (a forced
 * layout) and rendered again with the rows: two renders and two layouts before the first row could be painted.
 */
let lastRect: { width: number; height: number } | undefined;

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
  /** The run the result belongs to: a new run's rows replace the last run's in the same elements. */
  runKey: string;
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
export function ResultGrid({ runKey, result, version, label, onFirstRowPainted }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  /** The run whose first row was marked painted. */
  const painted = useRef<string | null>(null);
  const shownRun = useRef(runKey);
  const widths = result.columns.map((c) => columnWidth(c.name, c.type));
  const template = `${NUMBER_WIDTH_PX}px ${widths.map((w) => `${w}px`).join(' ')}`;
  const totalWidth = NUMBER_WIDTH_PX + widths.reduce((a, b) => a + b, 0);
  const virtualizer = useVirtualizer({
    count: result.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT_PX,
    // Few rows past the edges: each is restyled in every frame of a fast scroll.
    overscan: 4,
    ...(lastRect ? { initialRect: lastRect } : {}),
  });
  useLayoutEffect(() => {
    if (virtualizer.scrollRect) lastRect = virtualizer.scrollRect;
  });

  useLayoutEffect(() => {
    // A new run in the same grid starts at its top (its rows were rendered where the last run's were scrolled to,
    // and are rendered again once the scroller says where it is).
    if (shownRun.current === runKey) return;
    shownRun.current = runKey;
    if (virtualizer.scrollOffset) virtualizer.scrollToOffset(0);
  });

  useLayoutEffect(() => {
    if (painted.current === runKey || result.rows.length === 0 || !onFirstRowPainted) return;
    painted.current = runKey;
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
      data-run={runKey}
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
                <div
                  // The first row's number cell is a new element for each run: Element Timing reports an element's
                  // first paint only, and bench/ui times a run's first row by it.
                  key={item.index === 0 ? `first:${runKey}` : 'number'}
                  className="grid-cell grid-number"
                  role="rowheader"
                  {...(item.index === 0 ? { elementtiming: 'taidon:first-row' } : {})}
                >
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
