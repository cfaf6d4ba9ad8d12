import type { SessionSchema } from '@taidon/contracts';
import { monaco } from './monaco.js';

/** Keywords offered by completion (the grammar's own list is loaded lazily and not exported). */
const KEYWORDS = (
  'SELECT FROM WHERE GROUP BY HAVING ORDER LIMIT OFFSET INSERT INTO VALUES UPDATE SET DELETE RETURNING CREATE ' +
  'TABLE VIEW INDEX SCHEMA SEQUENCE FUNCTION DROP ALTER ADD COLUMN PRIMARY KEY FOREIGN REFERENCES NOT NULL DEFAULT ' +
  'UNIQUE CHECK CONSTRAINT JOIN LEFT RIGHT INNER FULL OUTER CROSS ON USING AS AND OR IN IS BETWEEN LIKE ILIKE ' +
  'EXISTS CASE WHEN THEN ELSE END DISTINCT UNION ALL EXCEPT INTERSECT WITH RECURSIVE BEGIN COMMIT ROLLBACK ' +
  'SAVEPOINT TRUNCATE EXPLAIN ANALYZE VACUUM GRANT REVOKE COPY ASC DESC NULLS FIRST LAST WINDOW PARTITION OVER ' +
  'FILTER LATERAL INTEGER BIGINT TEXT VARCHAR NUMERIC BOOLEAN DATE TIMESTAMP TIMESTAMPTZ JSONB SERIAL UUID ' +
  'generate_series count sum avg min max coalesce now'
).split(' ');

/** The schema completion offers; replaced after each run by the session's instance's catalog. */
let current: Pick<SessionSchema, 'tables'> = { tables: [] };

/** Sets the tables and columns completion offers. */
export function setCompletionSchema(schema: Pick<SessionSchema, 'tables'>): void {
  current = schema;
}

/** Registers keyword, table and column completion for pgsql (once). */
export function registerCompletion(): monaco.IDisposable {
  return monaco.languages.registerCompletionItemProvider('pgsql', {
    triggerCharacters: ['.', ' '],
    provideCompletionItems(model, position) {
      const word = model.getWordUntilPosition(position);
      const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
      const before = model.getLineContent(position.lineNumber).slice(0, word.startColumn - 1);
      const qualifier = /([A-Za-z_][\w$]*)\.$/.exec(before)?.[1]?.toLowerCase();
      const { Keyword, Struct, Field } = monaco.languages.CompletionItemKind;
      if (qualifier) {
        const table = current.tables.find((t) => t.name.toLowerCase() === qualifier);
        const columns = table?.columns ?? [];
        return {
          suggestions: columns.map((c) => ({ label: c.name, kind: Field, detail: c.type, insertText: c.name, range })),
        };
      }
      const tables = current.tables.map((t) => ({
        label: t.name,
        kind: Struct,
        detail: `table ${t.schema}.${t.name}`,
        insertText: t.name,
        range,
      }));
      const columns = current.tables.flatMap((t) =>
        t.columns.map((c) => ({
          label: c.name,
          kind: Field,
          detail: `${t.name}.${c.name} ${c.type}`,
          insertText: c.name,
          range,
        })),
      );
      const keywords = KEYWORDS.map((k) => ({ label: k, kind: Keyword, insertText: k, range }));
      return { suggestions: [...tables, ...columns, ...keywords] };
    },
  });
}
