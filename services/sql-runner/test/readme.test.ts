import { describeServiceReadme } from '@taidon/kit/testing';
import { sqlRunnerConfigSpec } from '../src/config.js';
import { SQL_RUNNER_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'sql-runner',
  root: new URL('..', import.meta.url),
  catalogueName: 'SQL_RUNNER_ERROR_CODES',
  catalogue: SQL_RUNNER_ERROR_CODES,
  configSpec: sqlRunnerConfigSpec,
  prefix: 'SQL_RUNNER',
});
