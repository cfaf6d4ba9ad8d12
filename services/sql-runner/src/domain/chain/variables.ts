/**
 * psql variables as `\set` and `\unset` leave them, and the three ways a
 * script reads them: `:name` (raw), `:'name'` (literal), `:"name"` (identifier).
 */
export class Variables {
  private readonly values = new Map<string, string>();

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  set(name: string, value: string): void {
    this.values.set(name, value);
  }

  unset(name: string): void {
    this.values.delete(name);
  }
}

/**
 * psql variables whose value changes how psql sends statements (implicit
 * transactions, one statement per line, ...), which a chain cannot reproduce.
 */
export const BEHAVIOUR_VARIABLES: ReadonlySet<string> = new Set([
  'AUTOCOMMIT',
  'ON_ERROR_ROLLBACK',
  'SINGLELINE',
  'SINGLESTEP',
  'FETCH_COUNT',
]);

/** psql's valid_variable_name: ASCII letters, digits, underscore, or any non-ASCII character. */
export function isValidVariableName(name: string): boolean {
  return /^[A-Za-z0-9_\u0080-\uffff]+$/.test(name);
}

/** True for the characters psql allows after ':' in a variable reference. */
export function isVariableChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95 ||
    code >= 0x80
  );
}

/** Like libpq's PQescapeLiteral: quotes doubled; backslashes doubled under E'' with a leading space. */
export function quoteLiteral(value: string): string {
  const doubled = value.replaceAll("'", "''");
  if (!value.includes('\\')) return `'${doubled}'`;
  return ` E'${doubled.replaceAll('\\', '\\\\')}'`;
}

/** Like libpq's PQescapeIdentifier: double quotes around, inner ones doubled. */
export function quoteIdentifier(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}
