/** A problem+json answer rebuilt on the client: status, stable code and, for SQL errors, where. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The SQL position fields of a SqlProblem (422), when present. */
  get sql(): SqlLocation | undefined {
    const { line, column, sqlstate, message, path, position } = this.body;
    if (typeof line !== 'number' || typeof column !== 'number') return undefined;
    return {
      line,
      column,
      sqlstate: typeof sqlstate === 'string' ? sqlstate : '',
      message: typeof message === 'string' ? message : this.message,
      path: typeof path === 'string' ? path : undefined,
      position: typeof position === 'number' ? position : undefined,
    };
  }
}

/** Where an error is in the learner's text, and what PostgreSQL calls it. */
export interface SqlLocation {
  line: number;
  column: number;
  sqlstate: string;
  message: string;
  path: string | undefined;
  position: number | undefined;
  hint?: string | undefined;
}

/** Rebuilds the ApiError of a failed response (problem+json or anything else). */
export async function apiErrorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  const detail = typeof body.detail === 'string' ? body.detail : response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, code, detail, body);
}
