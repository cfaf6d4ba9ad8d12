import { describeServiceReadme } from '@taidon/kit/testing';
import { userProfileConfigSpec } from '../src/config.js';
import { USER_PROFILE_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'user-profile',
  root: new URL('..', import.meta.url),
  catalogueName: 'USER_PROFILE_ERROR_CODES',
  catalogue: USER_PROFILE_ERROR_CODES,
  configSpec: userProfileConfigSpec,
  prefix: 'USER_PROFILE',
});
