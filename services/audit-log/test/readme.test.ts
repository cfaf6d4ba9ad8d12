import { describeServiceReadme } from '@taidon/kit/testing';
import { auditLogConfigSpec } from '../src/config.js';
import { AUDIT_LOG_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'audit-log',
  root: new URL('..', import.meta.url),
  catalogueName: 'AUDIT_LOG_ERROR_CODES',
  catalogue: AUDIT_LOG_ERROR_CODES,
  configSpec: auditLogConfigSpec,
  prefix: 'AUDIT_LOG',
});
