import { type Static, Type } from 'typebox';

/**
 * One request of an internal batch route that its single route would have refused: the problem's status, code,
 * message and extensions, so the caller rebuilds the same DomainError it would have had from that route.
 */
export const BatchRefusal = Type.Object(
  {
    ok: Type.Literal(false),
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    code: Type.String(),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown(), {
      description: "The problem's extensions (a failing tail's place, a refusal's retryAfterSeconds).",
    }),
  },
  { additionalProperties: false },
);
export type BatchRefusal = Static<typeof BatchRefusal>;
