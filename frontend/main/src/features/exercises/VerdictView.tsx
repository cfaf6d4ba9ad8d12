import type { AttemptCheck, AttemptResult } from '@taidon/contracts';
import { datasetLabel, rowText } from './exercise-model.js';

type Row = (string | null)[];

/** Missing rows marked −, extra rows +, each a line, and how many more the grader did not show. */
function RowsDiff({ check }: { check: AttemptCheck }) {
  const missing = check.missingRows ?? [];
  const extra = check.extraRows ?? [];
  const moreMissing = (check.missingCount ?? missing.length) - missing.length;
  const moreExtra = (check.extraCount ?? extra.length) - extra.length;
  return (
    <ul className="rows-diff" aria-label="Row differences" data-testid="rows-diff">
      {missing.map((row, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a verdict's rows never move
        <DiffLine key={`m${i}`} sign="−" kind="missing" row={row} />
      ))}
      {moreMissing > 0 && <li className="muted">− {moreMissing} more missing rows not shown</li>}
      {extra.map((row, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a verdict's rows never move
        <DiffLine key={`e${i}`} sign="+" kind="extra" row={row} />
      ))}
      {moreExtra > 0 && <li className="muted">+ {moreExtra} more extra rows not shown</li>}
    </ul>
  );
}

function DiffLine({ sign, kind, row, text }: { sign: string; kind: 'missing' | 'extra'; row?: Row; text?: string }) {
  const title = kind === 'missing' ? 'Missing: the answer lacks this row' : 'Extra: the answer has this row too many';
  return (
    <li className={`diff-line diff-${kind}`} data-testid={`diff-${kind}`} title={title}>
      <span className="diff-sign" role="img" aria-label={kind}>
        {sign}
      </span>
      <code>{text ?? rowText(row ?? [])}</code>
    </li>
  );
}

function ColumnsDiff({ columns }: { columns: NonNullable<AttemptCheck['columns']> }) {
  const count = Math.max(columns.expected.length, columns.actual.length);
  return (
    <table className="columns-diff" data-testid="columns-diff">
      <thead>
        <tr>
          <th>#</th>
          <th>expected</th>
          <th>your answer</th>
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: count }, (_, i) => {
          const expected = columns.expected[i];
          const actual = columns.actual[i];
          const differs = expected?.name !== actual?.name || expected?.type !== actual?.type;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: a column is its position
            <tr key={i} className={differs ? 'differs' : undefined}>
              <td>{i + 1}</td>
              <td>{expected ? `${expected.name} ${expected.type}` : '—'}</td>
              <td>{actual ? `${actual.name} ${actual.type}` : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const hasRowDiff = (check: AttemptCheck) =>
  (check.missingRows?.length ?? 0) +
    (check.extraRows?.length ?? 0) +
    (check.missingCount ?? 0) +
    (check.extraCount ?? 0) >
  0;

/** A diff of text lines: what the answer lacks (−) and has too many (+), and how many more were not shown. */
function LinesDiff({
  label,
  missing,
  extra,
  missingCount = missing.length,
  extraCount = extra.length,
  testId,
}: {
  label: string;
  missing: string[];
  extra: string[];
  missingCount?: number;
  extraCount?: number;
  testId: string;
}) {
  return (
    <ul className="rows-diff" aria-label={label} data-testid={testId}>
      {missing.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a verdict's lines never move
        <DiffLine key={`m${i}`} sign="−" kind="missing" text={line} />
      ))}
      {missingCount > missing.length && <li className="muted">− {missingCount - missing.length} more not shown</li>}
      {extra.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a verdict's lines never move
        <DiffLine key={`e${i}`} sign="+" kind="extra" text={line} />
      ))}
      {extraCount > extra.length && <li className="muted">+ {extraCount - extra.length} more not shown</li>}
    </ul>
  );
}

/** A write answer's state against the reference's: the catalog lines, the named tables' rows, other tables touched. */
function StateDiff({ check }: { check: AttemptCheck }) {
  return (
    <>
      {check.schema && (
        <>
          <p>Schema (columns, constraints, indexes):</p>
          <LinesDiff
            label="Schema differences"
            missing={check.schema.missing}
            extra={check.schema.extra}
            testId="schema-diff"
          />
        </>
      )}
      {check.tables?.map((t) => (
        <div key={t.table} data-testid="table-diff" data-table={t.table}>
          <p>
            Table <code>{t.table}</code>: {t.missingCount} rows missing, {t.extraCount} extra
          </p>
          <LinesDiff
            label={`Rows of ${t.table}`}
            missing={t.missingRows}
            extra={t.extraRows}
            missingCount={t.missingCount}
            extraCount={t.extraCount}
            testId="rows-diff"
          />
        </div>
      ))}
      {check.otherChanges && check.otherChanges.length > 0 && (
        <p data-testid="other-changes">
          Changed although the task leaves them as they were: {check.otherChanges.join(', ')}
        </p>
      )}
    </>
  );
}

/** One dataset's verdict: passed, or the reason with what tells it (rows, columns, order, error, time). */
export function CheckView({ check }: { check: AttemptCheck }) {
  return (
    <section
      className={`check ${check.passed ? 'passed' : 'failed'}`}
      data-testid="check"
      data-dataset={check.dataset}
      data-passed={String(check.passed)}
      data-reason={check.reason ?? ''}
      aria-label={`${datasetLabel(check.dataset)}: ${check.passed ? 'passed' : 'failed'}`}
    >
      <h4>
        <span aria-hidden="true">{check.passed ? '✓' : '✗'}</span> {datasetLabel(check.dataset)}:{' '}
        {check.passed ? 'passed' : `failed (${check.reason ?? 'unknown'})`}
      </h4>
      {check.message && <p>{check.message}</p>}
      {check.columns && <ColumnsDiff columns={check.columns} />}
      {hasRowDiff(check) && <RowsDiff check={check} />}
      <StateDiff check={check} />
      {check.orderDiffers && (
        <div className="order-differs" data-testid="order-differs">
          <p>Order differs from row {check.orderDiffers.row}:</p>
          <ul className="rows-diff">
            {check.orderDiffers.expected && <DiffLine sign="−" kind="missing" row={check.orderDiffers.expected} />}
            {check.orderDiffers.actual && <DiffLine sign="+" kind="extra" row={check.orderDiffers.actual} />}
          </ul>
        </div>
      )}
      {check.error && (
        <p className="run-error" data-testid="check-error">
          <strong>{check.error.sqlstate}</strong> line {check.error.line}, column {check.error.column}:{' '}
          {check.error.message}
        </p>
      )}
    </section>
  );
}

/** An attempt's verdict: the whole, then each dataset. */
export function VerdictView({ result }: { result: AttemptResult }) {
  const failed = result.checks.filter((c) => !c.passed).length;
  return (
    <div className="verdict" data-testid="verdict" data-passed={String(result.passed)} aria-live="polite">
      <h3 className={result.passed ? 'verdict-passed' : 'verdict-failed'}>
        {result.passed
          ? `Passed on every dataset (${result.checks.length})`
          : `Not yet: ${failed} of ${result.checks.length} datasets failed`}
        <span className="muted"> · graded in {Math.round(result.timings.totalMs)} ms</span>
      </h3>
      {result.checks.map((check) => (
        <CheckView key={check.dataset} check={check} />
      ))}
    </div>
  );
}
