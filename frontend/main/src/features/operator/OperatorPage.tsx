import type { LatencySummary, OperatorOverview } from '@taidon/contracts';
import { type ReactNode, useMemo } from 'react';
import type { AuthStore } from '../../api/auth.js';
import { ApiClient } from '../../api/client.js';
import { formatBytes, formatCount, formatRatio, formatSeconds, formatSince } from './format.js';
import { OVERVIEW_REFRESH_MS, useOperatorOverview } from './use-operator-overview.js';
import './operator.css';

/** One figure with its label; `name` is its test id. */
function Figure({ label, value, name }: { label: string; value: string; name: string }) {
  return (
    <div className="operator-figure">
      <span className="muted">{label}</span>
      <strong data-testid={`figure-${name}`}>{value}</strong>
    </div>
  );
}

/** A titled block of the page; a section whose service did not answer says so instead of showing zeros. */
function Section({
  title,
  since,
  nowMs,
  name,
  children,
}: {
  title: string;
  since: string | null | undefined;
  nowMs: number;
  name: string;
  children: ReactNode;
}) {
  return (
    <section className="operator-section" data-testid={`operator-${name}`} aria-label={title}>
      <h3>
        {title} <span className="muted">{formatSince(since, nowMs)}</span>
      </h3>
      {children}
    </section>
  );
}

function Missing() {
  return <p className="muted">Not available (see below).</p>;
}

/** A small table of labelled counts (outcomes, states). */
function CountTable({ rows, label, name }: { rows: { key: string; count: number }[]; label: string; name: string }) {
  if (rows.length === 0) return <p className="muted">None yet.</p>;
  return (
    <table className="operator-table" data-testid={`table-${name}`}>
      <thead>
        <tr>
          <th>{label}</th>
          <th>count</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <td>{row.key}</td>
            <td>{formatCount(row.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Latency by source: count, mean, p50, p95. */
function LatencyTable({ rows, name }: { rows: ({ source: string } & LatencySummary)[]; name: string }) {
  if (rows.length === 0) return <p className="muted">None yet.</p>;
  return (
    <table className="operator-table" data-testid={`table-${name}`}>
      <thead>
        <tr>
          <th>source</th>
          <th>count</th>
          <th>mean</th>
          <th>p50</th>
          <th>p95</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.source}>
            <td>{row.source}</td>
            <td>{formatCount(row.count)}</td>
            <td>{formatSeconds(row.meanSeconds)}</td>
            <td>{formatSeconds(row.p50Seconds)}</td>
            <td>{formatSeconds(row.p95Seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The figures of one overview, section by section. */
function Figures({ overview, nowMs }: { overview: OperatorOverview; nowMs: number }) {
  const { runs, cache, instances, layers, auth, git } = overview;
  return (
    <div className="operator-grid">
      <Section title="Runs" since={runs?.startedAt} nowMs={nowMs} name="runs">
        {runs ? (
          <>
            <div className="operator-figures">
              <Figure label="runs" value={formatCount(runs.total)} name="runs-total" />
              <Figure label="head p95" value={formatSeconds(runs.head.p95Seconds)} name="head-p95" />
              <Figure label="steps replayed" value={formatCount(runs.replaySteps)} name="replay-steps" />
            </div>
            <CountTable
              rows={runs.byOutcome.map((row) => ({ key: row.outcome, count: row.count }))}
              label="outcome"
              name="runs-by-outcome"
            />
            <h4>Time to a ready state by source</h4>
            <LatencyTable rows={runs.stateReadyBySource} name="state-ready" />
          </>
        ) : (
          <Missing />
        )}
      </Section>
      <Section title="Cache" since={cache?.startedAt} nowMs={nowMs} name="cache">
        {cache ? (
          <div className="operator-figures">
            <Figure label="hit ratio" value={formatRatio(cache.hitRatio)} name="hit-ratio" />
            <Figure label="hit" value={formatCount(cache.hit)} name="cache-hit" />
            <Figure label="partial" value={formatCount(cache.partial)} name="cache-partial" />
            <Figure label="miss" value={formatCount(cache.miss)} name="cache-miss" />
          </div>
        ) : (
          <Missing />
        )}
      </Section>
      <Section title="Instances" since={instances?.startedAt} nowMs={nowMs} name="instances">
        {instances ? (
          <>
            <div className="operator-figures">
              <Figure label="warm pool" value={formatCount(instances.warmPool)} name="warm-pool" />
              <Figure label="start failures" value={formatCount(instances.startFailures)} name="start-failures" />
            </div>
            <CountTable
              rows={instances.byState.map((row) => ({ key: row.state, count: row.count }))}
              label="state"
              name="instances-by-state"
            />
            <h4>Time to a ready instance by source</h4>
            <LatencyTable rows={instances.readyBySource} name="instance-ready" />
          </>
        ) : (
          <Missing />
        )}
      </Section>
      <Section title="Layers" since={layers?.startedAt} nowMs={nowMs} name="layers">
        {layers ? (
          <div className="operator-figures">
            <Figure label="layers" value={formatCount(layers.count)} name="layers" />
            <Figure
              label="bytes / budget"
              value={`${formatBytes(layers.bytes)} / ${formatBytes(layers.budgetBytes)}`}
              name="layer-bytes"
            />
            <Figure label="evictions" value={formatCount(layers.evictions)} name="evictions" />
            <Figure label="clones from spares" value={formatCount(layers.clonesFromSpares)} name="spares" />
          </div>
        ) : (
          <Missing />
        )}
      </Section>
      <Section title="Refusals" since={auth?.startedAt} nowMs={nowMs} name="auth">
        {auth ? (
          <div className="operator-figures">
            <Figure label="401 unauthorized" value={formatCount(auth.unauthorized)} name="unauthorized" />
            <Figure label="403 forbidden" value={formatCount(auth.forbidden)} name="forbidden" />
            <Figure label="sign-ins throttled" value={formatCount(auth.signInThrottled)} name="throttled" />
          </div>
        ) : (
          <Missing />
        )}
      </Section>
      <Section title="Git" since={git?.startedAt} nowMs={nowMs} name="git">
        {git ? (
          <>
            <div className="operator-figures">
              <Figure label="failed commands" value={formatCount(git.commandErrors)} name="git-command-errors" />
              <Figure label="remote errors" value={formatCount(git.remoteErrors)} name="git-remote-errors" />
            </div>
            <CountTable
              rows={git.remote.map((row) => ({ key: `${row.operation} · ${row.outcome}`, count: row.count }))}
              label="remote operation"
              name="git-remote"
            />
          </>
        ) : (
          <Missing />
        )}
      </Section>
    </div>
  );
}

/**
 * The operator page (admins only): the key figures of the Grafana dashboards,
 * asked again every few seconds while open and visible. Counters count since
 * each service's process started, on the replica that answered (ADR 0038).
 */
export function OperatorPage({ auth, open, onClose }: { auth: AuthStore; open: boolean; onClose: () => void }) {
  const api = useMemo(() => new ApiClient(auth), [auth]);
  const { overview, receivedAtMs, error } = useOperatorOverview(api, open);
  const nowMs = receivedAtMs ?? Date.now();
  return (
    <div className="operator-page" data-testid="operator-page">
      <header className="row">
        <h2>Operator overview</h2>
        <span className="muted" data-testid="operator-updated">
          {receivedAtMs
            ? `updated ${new Date(receivedAtMs).toLocaleTimeString()} · every ${OVERVIEW_REFRESH_MS / 1000} s`
            : 'loading…'}
        </span>
        <div className="spacer" />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {error && (
        <p role="alert" data-testid="operator-error">
          {error}
        </p>
      )}
      {overview && <Figures overview={overview} nowMs={nowMs} />}
      {overview && overview.unavailable.length > 0 && (
        <ul className="operator-unavailable" data-testid="operator-unavailable">
          {overview.unavailable.map((entry) => (
            <li key={entry.service}>
              {entry.service}: {entry.reason}
            </li>
          ))}
        </ul>
      )}
      <p className="muted">
        Counts since each service started, from the replica that answered; rates and cluster-wide sums are in the
        Grafana dashboards.
      </p>
    </div>
  );
}
