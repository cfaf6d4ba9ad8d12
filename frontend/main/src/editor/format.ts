import { splitStatements } from './split.js';

/** Clauses that start a new line when formatting. */
const CLAUSES = [
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP BY',
  'HAVING',
  'ORDER BY',
  'LIMIT',
  'OFFSET',
  'UNION ALL',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'VALUES',
  'SET',
  'RETURNING',
  'LEFT JOIN',
  'RIGHT JOIN',
  'INNER JOIN',
  'FULL JOIN',
  'CROSS JOIN',
  'JOIN',
  'ON CONFLICT',
  'WINDOW',
];

/** Keywords upper-cased when formatting. */
const KEYWORDS = new Set(
  (
    'select from where group by having order limit offset union all except intersect values set returning ' +
    'left right inner full outer cross join on conflict do nothing update delete insert into create table drop ' +
    'alter add column primary key references not null default unique check constraint index view as and or in ' +
    'is between like ilike exists case when then else end distinct with recursive begin commit rollback asc ' +
    'desc nulls first last using if cascade truncate grant revoke true false window partition over filter'
  ).split(' '),
);

/** Upper-cases keywords outside quotes and comments. */
function upperKeywords(sql: string): string {
  return sql.replace(
    /('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$\$[\s\S]*?\$\$)|\b([A-Za-z_]+)\b/g,
    (whole, quoted: string | undefined, word: string | undefined) =>
      quoted !== undefined ? whole : word && KEYWORDS.has(word.toLowerCase()) ? word.toUpperCase() : whole,
  );
}

/** Puts each main clause of a statement on its own line (only outside quotes and parentheses' depth > 0 is kept). */
function breakClauses(statement: string): string {
  if (/--|\/\*|\$\$|'/.test(statement)) return statement; // comments and literals stay untouched
  const flat = statement.replace(/\s+/g, ' ').trim();
  const pattern = new RegExp(`\\s(${CLAUSES.map((c) => c.replace(' ', '\\s+')).join('|')})\\b`, 'g');
  let depth = 0;
  let out = '';
  let last = 0;
  for (const match of flat.matchAll(pattern)) {
    const index = match.index ?? 0;
    for (const ch of flat.slice(last, index)) depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    out += flat.slice(last, index) + (depth === 0 ? '\n' : ' ') + (match[1] ?? '');
    last = index + match[0].length;
  }
  return out + flat.slice(last);
}

/**
 * A small, dependency-free formatter: keywords upper-cased and one main
 * clause per line; statements with literals or comments keep their layout.
 */
export function formatSql(sql: string): string {
  const statements = splitStatements(sql);
  if (statements.length === 0) return sql;
  return `${statements.map((s) => breakClauses(upperKeywords(s.text.trim()))).join('\n\n')}\n`;
}
