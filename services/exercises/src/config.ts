import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable the exercises service reads. */
export const exercisesConfigSpec = {
  EXERCISES_DATABASE_URL: envUrl(
    "Connection URL of the exercises service's own role on the control-plane PostgreSQL (schema `exercises`).",
    { secret: true, protocols: ['postgres:', 'postgresql:'] },
  ),
  SQL_RUNNER_URL: envUrl(
    'Base URL of sql-runner, whose `POST /throwaway/query-batches` runs the reference, its mutants and answers on throwaway clones.',
  ),
  VCS_SYNC_URL: envOptional(
    'Base URL of vcs-sync, whose `GET /projects/:id/exercise-files` a pack imported from a project is read through; unset, such an import answers 503 `EXERCISES_PROJECTS_UNAVAILABLE`.',
  ),
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  AUDIT_LOG_URL: envOptional(
    'Base URL of audit-log: `exercise.published` events go there through the outbox; unset, none are recorded.',
  ),
  AUDIT_OUTBOX_FILE: envString('JSONL file keeping audit events until audit-log accepts them.', {
    default: 'audit-outbox/exercises.jsonl',
  }),
  EXERCISES_MAX_MUTANTS: envInt('Most mutants of the reference one publish generates and runs.', {
    default: 60,
    min: 0,
    max: 200,
  }),
  EXERCISES_MUTANT_TIMEOUT_MS: envInt(
    "Time limit of one run of the reference or a mutant on one dataset's clone, in milliseconds (past it a mutant is killed).",
    { default: 2_000, min: 50, max: 60_000 },
  ),
  EXERCISES_PUBLISH_BUDGET_MS: envInt(
    'Wall-clock budget of one publish measure, in milliseconds; mutants not started by then are reported `unmeasured`.',
    { default: 120_000, min: 1_000, max: 1_800_000 },
  ),
  EXERCISES_PACK_PUBLISH_BUDGET_MS: envInt(
    "Wall-clock budget of publishing one pack's exercises (`POST /exercise-packs` with `publish`), in milliseconds; exercises not reached by then stay drafts (`EXERCISES_PACK_BUDGET_SPENT`). Below the gateway's 300 s deadline of that route.",
    { default: 240_000, min: 1_000, max: 1_800_000 },
  ),
  EXERCISES_ATTEMPT_TIMEOUT_MS: envInt(
    "Time limit of a learner's SQL on each dataset's clone, in milliseconds; past it the check fails with `time-limit`.",
    { default: 5_000, min: 50, max: 60_000 },
  ),
  EXERCISES_SQL_RUNNER_TIMEOUT_MS: envInt(
    'Deadline of one call to sql-runner (building a dataset state on the first call included), in milliseconds.',
    { default: 120_000, min: 1_000, max: 1_800_000 },
  ),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8089, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** The exercises service's validated, frozen configuration. */
export type ExercisesConfig = ConfigOf<typeof exercisesConfigSpec>;

/** Reads the exercises service's configuration from the environment, reporting every bad variable at once. */
export function loadExercisesConfig(env: NodeJS.ProcessEnv = process.env): ExercisesConfig {
  return loadConfig(exercisesConfigSpec, env);
}
