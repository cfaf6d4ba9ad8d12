import { type Static, Type } from 'typebox';

/** A key of a table: its primary key, a unique constraint, or a foreign key with what it references. */
export const SchemaKey = Type.Object(
  {
    name: Type.String({ description: 'The constraint name.' }),
    kind: Type.Union([Type.Literal('primary'), Type.Literal('unique'), Type.Literal('foreign')]),
    columns: Type.Array(Type.String(), { description: 'Its columns, in key order.' }),
    references: Type.Optional(
      Type.Object(
        { schema: Type.String(), table: Type.String(), columns: Type.Array(Type.String()) },
        { additionalProperties: false, description: 'A foreign key only: the referenced table and columns.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SchemaKey = Static<typeof SchemaKey>;

/** An index of a table, as `pg_get_indexdef` prints it. */
export const SchemaIndex = Type.Object(
  {
    name: Type.String(),
    unique: Type.Boolean(),
    definition: Type.String({ description: 'The `CREATE INDEX` statement that would rebuild it.' }),
  },
  { additionalProperties: false },
);
export type SchemaIndex = Static<typeof SchemaIndex>;

/**
 * `GET /api/sessions/:id/schema`: the schemas, tables, columns, keys, indexes
 * and row estimates of the session's current instance, for the editor's
 * completion and schema browser. Empty while the session has no running
 * instance (nothing ran yet, or it was suspended). Bounded: past a cap on
 * the objects listed, the rest is left out and `truncated` says so.
 */
export const SessionSchema = Type.Object(
  {
    schemas: Type.Array(Type.String(), {
      description: "The learner's schemas (PostgreSQL's own left out), empty ones included.",
    }),
    tables: Type.Array(
      Type.Object(
        {
          schema: Type.String(),
          name: Type.String(),
          kind: Type.String({ description: 'table, view, materialized view, foreign table or partitioned table.' }),
          rowEstimate: Type.Union([Type.Number(), Type.Null()], {
            description:
              "Rows, as the planner estimates them (`reltuples`); before the first VACUUM or ANALYZE, the statistics' live rows, else the planner's guess from the pages on disk; null for views and foreign tables.",
          }),
          columns: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                type: Type.String({ description: 'As `format_type` prints it.' }),
                nullable: Type.Boolean(),
              },
              { additionalProperties: false },
            ),
          ),
          keys: Type.Array(SchemaKey),
          indexes: Type.Array(SchemaIndex),
        },
        { additionalProperties: false },
      ),
    ),
    truncated: Type.Boolean({
      description: 'Some objects were left out: the instance has more than the listing caps allow.',
    }),
  },
  { additionalProperties: false },
);
export type SessionSchema = Static<typeof SessionSchema>;
