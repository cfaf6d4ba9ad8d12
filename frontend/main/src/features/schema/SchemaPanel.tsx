import type { SessionSchema } from '@taidon/contracts';
import { memo } from 'react';
import { formatEstimate, quoteIdent, tableReference } from './schema-model.js';

type Table = SessionSchema['tables'][number];

interface Props {
  /** The catalog of the session's instance; null before it was first read. */
  schema: SessionSchema | null;
  loading: boolean;
  /** Puts a name at the editor's cursor. */
  onInsert(text: string): void;
  onRefresh(): void;
}

/** `CREATE UNIQUE INDEX i ON public.t USING btree (a)` as `unique i btree (a)`; the whole definition is its title. */
export function shortIndex(definition: string): string {
  const m = /^CREATE (UNIQUE )?INDEX (\S+) ON \S+ USING (\w+) (.*)$/.exec(definition);
  return m ? `${m[1] ? 'unique ' : ''}${m[2]} ${m[3]} ${m[4]}` : definition;
}

function keyMarks(table: Table, column: string): string {
  const marks: string[] = [];
  for (const key of table.keys) {
    if (!key.columns.includes(column)) continue;
    marks.push(key.kind === 'primary' ? 'PK' : key.kind === 'unique' ? 'UQ' : 'FK');
  }
  return [...new Set(marks)].join(' ');
}

function TableItem({ table, onInsert }: { table: Table; onInsert(text: string): void }) {
  const reference = tableReference(table.schema, table.name);
  return (
    <li data-testid="schema-table" data-name={table.name} data-schema={table.schema}>
      <details>
        <summary>
          <button
            type="button"
            className="schema-name"
            onClick={(e) => {
              e.preventDefault();
              onInsert(reference);
            }}
            aria-label={`Insert ${reference} at the cursor`}
            data-testid="schema-table-name"
          >
            {table.name}
          </button>
          <span className="muted" title={`${table.kind}; about ${table.rowEstimate ?? 'an unknown number of'} rows`}>
            {table.kind === 'table' ? '' : `${table.kind} `}
            <span data-testid="schema-row-estimate">
              {table.kind.includes('view') && table.rowEstimate === null
                ? ''
                : `~${formatEstimate(table.rowEstimate)} rows`}
            </span>
          </span>
        </summary>
        <ul className="schema-columns">
          {table.columns.map((c) => (
            <li key={c.name} data-testid="schema-column">
              <button
                type="button"
                className="schema-name"
                onClick={() => onInsert(quoteIdent(c.name))}
                aria-label={`Insert column ${c.name} at the cursor`}
              >
                {c.name}
              </button>{' '}
              <code className="muted">
                {c.type}
                {c.nullable ? '' : ' not null'}
              </code>{' '}
              <span className="schema-key">{keyMarks(table, c.name)}</span>
            </li>
          ))}
        </ul>
        {table.keys.some((k) => k.references) && (
          <ul className="schema-extra">
            {table.keys
              .filter((k) => k.references)
              .map((k) => (
                <li key={k.name} className="muted" title={k.name}>
                  FK ({k.columns.join(', ')}) → {k.references?.table} ({k.references?.columns.join(', ')})
                </li>
              ))}
          </ul>
        )}
        {table.indexes.length > 0 && (
          <ul className="schema-extra" aria-label={`Indexes of ${table.name}`}>
            {table.indexes.map((i) => (
              <li key={i.name} data-testid="schema-index" title={i.definition}>
                <code className="muted">{shortIndex(i.definition)}</code>
              </li>
            ))}
          </ul>
        )}
      </details>
    </li>
  );
}

/**
 * The catalog of the session's instance: schemas, their tables with row
 * estimates, and per table its columns, keys and indexes. Clicking a name
 * puts it at the editor's cursor, quoted where PostgreSQL needs it.
 */
export const SchemaPanel = memo(function SchemaPanel({ schema, loading, onInsert, onRefresh }: Props) {
  const schemas = schema ? [...new Set([...schema.schemas, ...schema.tables.map((t) => t.schema)])] : [];
  return (
    <section className="panel schema-panel" aria-label="Schema" data-testid="schema-panel" data-loading={loading}>
      <h2>
        Schema{' '}
        <button type="button" className="link" onClick={onRefresh} aria-label="Read the schema again">
          ↻
        </button>
      </h2>
      {!schema || schema.tables.length === 0 ? (
        <p className="muted">{loading ? 'Reading the catalog…' : 'No tables yet: they show here after a run.'}</p>
      ) : (
        schemas.map((name) => {
          const tables = schema.tables.filter((t) => t.schema === name);
          return (
            <details key={name} open={name === 'public' || schemas.length < 4} className="schema-group">
              <summary>
                <span className="muted">schema</span> {name} <span className="muted">({tables.length})</span>
              </summary>
              <ul className="schema-tables">
                {tables.map((t) => (
                  <TableItem key={`${t.schema}.${t.name}`} table={t} onInsert={onInsert} />
                ))}
              </ul>
            </details>
          );
        })
      )}
      {schema?.truncated && <p className="muted">Only the first objects are listed: the instance has more.</p>}
    </section>
  );
});
