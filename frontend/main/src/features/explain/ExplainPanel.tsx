import type { ExplainResponse } from '@taidon/contracts';
import { useState } from 'react';
import { ApiError } from '../../api/errors.js';
import { formatMs, formatRows, type PlanNode } from './plan-tree.js';
import type { ExplainView } from './use-explain.js';

/** Where the explained state came from, in the learner's words. */
const SOURCES: Record<ExplainResponse['source'], string> = {
  layer: 'a cached layer',
  built: 'a layer built for this plan',
  'session-snapshot': "your session's committed state",
};

function NodeRow({ node }: { node: PlanNode }) {
  const buffers = Object.entries(node.buffers);
  return (
    <li
      className={`plan-node${node.costly ? ' costly' : ''}${node.neverExecuted ? ' never' : ''}`}
      style={{ paddingLeft: `${node.depth * 18 + 6}px` }}
      data-testid="plan-node"
      data-costly={String(node.costly)}
      data-misestimate={node.misestimate ? node.misestimate.direction : ''}
    >
      <div className="plan-head">
        <span className="plan-share" style={{ width: `${Math.round(node.selfShare * 100)}%` }} aria-hidden="true" />
        {node.depth > 0 && <span className="muted">→ </span>}
        {node.relationship && <span className="muted">{node.relationship}: </span>}
        <strong data-testid="plan-label">{node.label}</strong>
        {node.costly && (
          <span className="badge error" title="Among the costliest nodes of this plan (its own time)">
            {Math.round(node.selfShare * 100)}%
          </span>
        )}
      </div>
      <div className="plan-figures">
        {node.selfMs !== null && node.totalMs !== null ? (
          <span title="This node's own time (children's taken out), and with its children; all loops">
            {formatMs(node.selfMs)} own · {formatMs(node.totalMs)} total
          </span>
        ) : node.neverExecuted ? (
          <span>never executed</span>
        ) : null}
        <span
          className={node.misestimate ? 'misestimate' : ''}
          title={
            node.misestimate
              ? `The planner expected ${node.misestimate.factor.toFixed(0)}× ${node.misestimate.direction === 'under' ? 'fewer' : 'more'} rows than came`
              : 'Rows per loop: estimated → actual'
          }
        >
          rows {formatRows(node.rowsEstimated)} est
          {node.rowsActual !== null && ` → ${formatRows(node.rowsActual)}`}
          {node.misestimate && ` ⚠ ×${node.misestimate.factor.toFixed(0)} ${node.misestimate.direction}`}
        </span>
        {node.loops !== null && node.loops > 1 && <span>loops {node.loops.toLocaleString('en')}</span>}
        {buffers.length > 0 && (
          <span title="Buffers: 8 kB blocks">buffers {buffers.map(([k, v]) => `${k}=${v}`).join(' ')}</span>
        )}
        <span className="muted">
          cost {node.startupCost}..{node.totalCost}
        </span>
      </div>
      {node.details.length > 0 && (
        <ul className="plan-details">
          {node.details.map((d) => (
            <li key={d}>
              <code>{d}</code>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * An EXPLAIN (ANALYZE, BUFFERS) of the statement under the cursor, run on a
 * throwaway clone: the plan as a tree (own time, rows estimated against
 * actual, buffers, the costliest nodes marked), its raw text one click away.
 */
export function ExplainPanel({ view }: { view: ExplainView }) {
  const [raw, setRaw] = useState(false);
  const tree = view.tree;
  return (
    <section className="explain" aria-label="Query plan" data-testid="explain" data-status={view.status}>
      <div className="result-toolbar">
        <strong>EXPLAIN ANALYZE</strong>
        <code className="muted explain-statement">{view.statement.trim().split('\n')[0]?.slice(0, 80)}</code>
        <span className="spacer" />
        {tree && (
          <span data-testid="explain-times">
            {tree.planningMs !== null && `planning ${formatMs(tree.planningMs)}`}
            {tree.executionMs !== null && ` · execution ${formatMs(tree.executionMs)}`}
          </span>
        )}
        {view.response && (
          <button
            type="button"
            onClick={() => setRaw(!raw)}
            aria-pressed={raw}
            data-testid="explain-raw-toggle"
            aria-label={raw ? 'Show the plan as a tree' : 'Show the plan as PostgreSQL prints it'}
          >
            {raw ? 'Tree' : 'Raw text'}
          </button>
        )}
      </div>
      {view.status === 'running' && (
        <p className="muted" role="status">
          <span className="spinner" aria-hidden="true" /> Running EXPLAIN ANALYZE on a throwaway clone of your state…
        </p>
      )}
      {view.status === 'error' && (
        <div className="run-error" role="alert" data-testid="explain-error">
          {view.error instanceof ApiError && <code>{view.error.sql?.sqlstate || view.error.code}</code>}{' '}
          {view.error?.message}
        </div>
      )}
      {view.response && (
        <p className="muted explain-note">
          Ran on a throwaway clone of {SOURCES[view.response.source]}: your session's rows are as they were.
        </p>
      )}
      {view.response && raw && (
        <pre className="explain-text" data-testid="explain-text">
          {view.response.text}
        </pre>
      )}
      {tree && !raw && (
        <div className="explain-scroller">
          <ul className="plan-tree" data-testid="plan-tree">
            {tree.nodes.map((n) => (
              <NodeRow key={n.id} node={n} />
            ))}
          </ul>
          {tree.triggers.length > 0 && (
            <ul className="plan-details">
              {tree.triggers.map((t) => (
                <li key={t.name}>
                  Trigger {t.name}
                  {t.relation ? ` on ${t.relation}` : ''}: {formatMs(t.timeMs)}, {t.calls} calls
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
