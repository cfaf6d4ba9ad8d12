export {
  Account,
  CreateAccountRequest,
  QuotaOverrides,
  Quotas,
  Role,
  UpdateAccountRequest,
  UpgradeAccountRequest,
} from './accounts.js';
export { type AccessTokenClaims, AccessTokenResponse } from './auth.js';
export { Problem, SqlProblem } from './common.js';
export { MAX_SCRIPT_CHARS, PlanInput, PlanResponse, PlanStep, ScriptFile } from './plan.js';
export { type ResultColumn, RUN_STREAM_CONTENT_TYPE, type RunEvent, RunRequest, type StateSource } from './runs.js';
