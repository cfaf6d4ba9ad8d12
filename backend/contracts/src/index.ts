export {
  ACCOUNT_ERROR_CODES,
  AccountList,
  AccountListQuery,
  InstanceSummary,
  MeResponse,
  RoleQuotas,
  Usage,
} from './account-views.js';
export {
  Account,
  CreateAccountRequest,
  QuotaOverrides,
  Quotas,
  Role,
  UpdateAccountRequest,
  UpgradeAccountRequest,
} from './accounts.js';
export {
  AuditAction,
  AuditEvent,
  AuditEventBatch,
  AuditPage,
  AuditQuery,
  AuditVerification,
  StoredAuditEvent,
} from './audit.js';
export { type AccessTokenClaims, AccessTokenResponse, PasswordCredentials } from './auth.js';
export { Problem, SqlProblem } from './common.js';
export {
  CreateExercisePackRequest,
  ExercisePackResult,
  ImportExercisePackRequest,
  MAX_PACK_BODY_BYTES,
  MAX_PACK_EXERCISES,
  MAX_PACK_TEXT_BYTES,
  PackExercise,
  PackExerciseOutcome,
  ProjectPackRequest,
} from './exercise-packs.js';
export {
  AttemptCheck,
  AttemptRequest,
  AttemptResult,
  AuthoredExercise,
  CreateExerciseRequest,
  ExerciseCompare,
  ExerciseDataset,
  ExerciseIdParams,
  ExerciseKind,
  ExerciseList,
  ExerciseStats,
  ExerciseSummary,
  ExerciseView,
  MAX_ATTEMPT_SQL_CHARS,
  MAX_COMPARED_TABLES,
  MAX_EQUIVALENT_MUTANTS,
  MAX_EXERCISE_BODY_BYTES,
  MAX_EXERCISE_CHECK_CHARS,
  MAX_EXERCISE_DATASETS,
  MAX_EXERCISE_LIST,
  MAX_EXERCISE_SOLUTION_CHARS,
  MAX_EXERCISE_STATE_SQL_CHARS,
  MAX_EXERCISE_TASK_CHARS,
  MAX_EXERCISE_TITLE_CHARS,
  MAX_WRONG_ANSWER_GROUPS,
  MutationReport,
  ProgressList,
  PublishedExercise,
  PublishResult,
  UpdateExerciseRequest,
} from './exercises.js';
export {
  ExplainRequest,
  ExplainResponse,
  ExplainSource,
  MAX_EXPLAIN_STATEMENT_CHARS,
} from './explain.js';
export * as EnvManagerApi from './internal/env-manager.js';
export * as IdpApi from './internal/idp.js';
export * as SnapshotCacheApi from './internal/snapshot-cache.js';
export * as SqlRunnerApi from './internal/sql-runner.js';
export * as VcsSyncApi from './internal/vcs-sync.js';
export {
  LatencySummary,
  OperatorAuth,
  OperatorCache,
  OperatorGit,
  OperatorInstances,
  OperatorLayers,
  OperatorOverview,
  OperatorRuns,
} from './operator.js';
export {
  MAX_PLAN_FILES,
  MAX_SCRIPT_CHARS,
  PlanInput,
  PlanRequest,
  PlanResponse,
  PlanStep,
  ProjectTailRef,
  ScriptFile,
  UnplannableProblem,
} from './plan.js';
export {
  MAX_PROJECT_TEST_FILES,
  type ProjectTestEvent,
  type ProjectTestFailure,
  ProjectTestsRequest,
} from './project-tests.js';
export {
  AbortedMerge,
  Commit,
  ConflictFile,
  CreateProjectRequest,
  DiffQuery,
  FileChange,
  HistoryQuery,
  ImportSource,
  PendingMerge,
  Project,
  ProjectDiff,
  ProjectFile,
  ProjectHistory,
  ProjectIdParams,
  ProjectRemote,
  ProjectRemoteOrNull,
  ProjectTemplates,
  ProjectTree,
  PullResult,
  PushResult,
  RenameFileRequest,
  ResolveMergeRequest,
  RestoreRequest,
  RestoreResult,
  SetRemoteRequest,
} from './projects.js';
export { type ResultColumn, RUN_STREAM_CONTENT_TYPE, type RunEvent, RunRequest, type StateSource } from './runs.js';
export { SchemaIndex, SchemaKey, SessionSchema } from './session-schema.js';
export {
  CreatedShare,
  CreateShareRequest,
  RunTail,
  SHARE_ERROR_CODES,
  SHARE_ID_PATTERN,
  SHARE_PAGE_PREFIX,
  SHARE_PREVIEW_MAX_CHARS,
  SHARE_RESULTS_MAX_CHARS,
  SharedResultSet,
  SharedResults,
  SharedState,
  ShareIdParams,
  ShareList,
  SharePreview,
  ShareSummary,
  ShareTailRef,
  shareTitleOf,
} from './shares.js';
