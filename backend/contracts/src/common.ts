import { type Static, Type } from 'typebox';

/**
 * Every error answer (RFC 9457 problem+json). `code` is stable and documented
 * in the answering service's README; `type` is the same code as a URN.
 */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:taidon:problem:<CODE>' }),
    code: Type.String({ description: 'Stable error code, e.g. SQL_RUNNER_SYNTAX_ERROR.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'Human-readable explanation for this occurrence.' }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type Problem = Static<typeof Problem>;

/** problem+json of an error in the user's SQL: where it is and what PostgreSQL calls it. */
export const SqlProblem = Type.Object(
  {
    type: Type.String(),
    code: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    message: Type.String({ description: 'The PostgreSQL (or psql) message.' }),
    sqlstate: Type.String({ description: 'Five-character SQLSTATE, e.g. 42601 for a syntax error.' }),
    path: Type.Optional(Type.String({ description: 'Script file the error is in.' })),
    line: Type.Integer({ minimum: 1, description: '1-based line in that file.' }),
    column: Type.Integer({ minimum: 1, description: '1-based column, in characters.' }),
    position: Type.Optional(Type.Integer({ minimum: 1, description: '1-based character offset in that file.' })),
    requestId: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type SqlProblem = Static<typeof SqlProblem>;
