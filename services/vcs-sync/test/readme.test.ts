import { describeServiceReadme } from '@taidon/kit/testing';
import { vcsSyncConfigSpec } from '../src/config.js';
import { VCS_SYNC_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'vcs-sync',
  root: new URL('..', import.meta.url),
  catalogueName: 'VCS_SYNC_ERROR_CODES',
  catalogue: VCS_SYNC_ERROR_CODES,
  configSpec: vcsSyncConfigSpec,
  prefix: 'VCS_SYNC',
});
