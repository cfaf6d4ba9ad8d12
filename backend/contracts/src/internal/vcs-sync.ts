import { type Static, Type } from 'typebox';
import { MAX_PLAN_FILES, ScriptFile } from '../plan.js';

/**
 * vcs-sync's internal API (sql-runner calls it): what a project tail is
 * made of. Declared once here, used by vcs-sync's route through the TypeBox
 * type provider and by sql-runner's client.
 */

/** Query of `GET /projects/{id}/scripts`: the commit, and the bounds the caller plans within (decimal integers). */
export const ScriptsQuery = Type.Object(
  {
    ref: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{4,64}$', description: 'A commit of the project; default the latest.' }),
    ),
    maxFiles: Type.String({
      pattern: '^[1-9][0-9]{0,5}$',
      description: `Most files the answer may hold (a chain takes at most ${MAX_PLAN_FILES}); more is refused (413) before any is read.`,
    }),
    maxBytes: Type.String({
      pattern: '^[1-9][0-9]{0,11}$',
      description: 'Most bytes of text the answer may hold together; more is refused (413) before any is read.',
    }),
  },
  { additionalProperties: false },
);
export type ScriptsQuery = Static<typeof ScriptsQuery>;

/**
 * The project's `.sql` files at `commit`: first those directly in `init/`,
 * then those directly in `seed/`, each folder in name order (`run` true);
 * then every other `.sql` file, `run: false`, there for `\i`/`\ir`.
 */
export const ProjectScripts = Type.Object(
  {
    commit: Type.String({ description: 'The full id of the commit the files were read at.' }),
    files: Type.Array(ScriptFile),
  },
  { additionalProperties: false },
);
export type ProjectScripts = Static<typeof ProjectScripts>;

/** Characters of one file `GET /projects/{id}/exercise-files` answers (a dataset's SQL is the largest). */
export const MAX_EXERCISE_FILE_CHARS = 1024 * 1024;

/**
 * What exercises authored in a project are made of at `commit` (the exercises service imports them as a
 * pack): `init/*.sql` then `seed/*.sql` in name order (the start state), then every `.yaml`, `.yml`, `.md`
 * and `.sql` file under `exercises/`, by path.
 */
export const ProjectExerciseFiles = Type.Object(
  {
    commit: Type.String({ description: 'The full id of the commit the files were read at.' }),
    files: Type.Array(
      Type.Object(
        {
          path: Type.String({ minLength: 1, maxLength: 512 }),
          text: Type.String({ maxLength: MAX_EXERCISE_FILE_CHARS }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ProjectExerciseFiles = Static<typeof ProjectExerciseFiles>;
