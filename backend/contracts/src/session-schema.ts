import { type Static, Type } from 'typebox';

/**
 * `GET /api/sessions/:id/schema`: the tables and columns of the session's
 * current instance, for the editor's completion. Empty while the session
 * has no running instance (nothing ran yet, or it was suspended).
 */
export const SessionSchema = Type.Object(
  {
    tables: Type.Array(
      Type.Object(
        {
          schema: Type.String(),
          name: Type.String(),
          kind: Type.String({ description: 'table, view, materialized view, foreign table or partitioned table.' }),
          columns: Type.Array(
            Type.Object({ name: Type.String(), type: Type.String({ description: 'As `format_type` prints it.' }) }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SessionSchema = Static<typeof SessionSchema>;
