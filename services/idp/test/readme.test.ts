import { describeServiceReadme } from '@taidon/kit/testing';
import { idpConfigSpec } from '../src/config.js';
import { IDP_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'idp',
  root: new URL('..', import.meta.url),
  catalogueName: 'IDP_ERROR_CODES',
  catalogue: IDP_ERROR_CODES,
  configSpec: idpConfigSpec,
  prefix: 'IDP',
});
