import type { MutationReport } from '@taidon/contracts';

/**
 * A publish's measure: how many mutants of the reference the datasets tell
 * apart, and every survivor's SQL. Its author may mark a survivor equivalent
 * to the reference (`onMarkEquivalent`): the next publish leaves it out.
 */
export function MutationReportView({
  report,
  equivalent = [],
  onMarkEquivalent,
}: {
  report: MutationReport;
  equivalent?: string[];
  onMarkEquivalent?(label: string): void;
}) {
  const counted = report.killed + report.survivors.length;
  return (
    <div className="mutation-report" data-testid="mutation-report">
      <p>
        Kill score <strong data-testid="kill-score">{report.score.toFixed(2)}</strong>: the datasets tell{' '}
        <strong data-testid="killed">{report.killed}</strong> of {counted} counted mutants apart ({report.mutants} made;{' '}
        {report.stillborn} failing everywhere, {report.equivalent} marked equivalent, {report.unmeasured} left
        unmeasured; {Math.round(report.ms)} ms).
      </p>
      {report.datasets.length > 0 && (
        <p className="muted">Killed per dataset: {report.datasets.map((d) => `${d.name} ${d.killed}`).join(', ')}</p>
      )}
      {report.warnings.map((w) => (
        <p key={w} className="warning" role="note">
          ⚠ {w}
        </p>
      ))}
      {report.survivors.length === 0 ? (
        <p>No mutant survives.</p>
      ) : (
        <>
          <h4>Survivors ({report.survivors.length}): wrong answers these datasets would pass</h4>
          <ul className="survivors" data-testid="survivors">
            {report.survivors.map((s) => (
              <li key={s.label} data-testid="survivor" data-operator={s.operator}>
                <span className="badge">{s.operator}</span> {s.label}{' '}
                {equivalent.includes(s.label) ? (
                  <span className="muted" data-testid="marked-equivalent">
                    marked equivalent: left out of the next publish
                  </span>
                ) : (
                  onMarkEquivalent && (
                    <button
                      type="button"
                      onClick={() => onMarkEquivalent(s.label)}
                      aria-label={`Mark “${s.label}” equivalent to the reference`}
                      title="Equal to the reference on every possible database: no dataset can tell it apart"
                    >
                      Mark equivalent
                    </button>
                  )
                )}
                <pre>
                  <code>{s.sql}</code>
                </pre>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
