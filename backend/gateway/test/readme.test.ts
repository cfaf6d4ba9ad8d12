import { describeServiceReadme } from '@taidon/kit/testing';
import { gatewayConfigSpec } from '../src/config.js';
import { GATEWAY_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'gateway',
  root: new URL('..', import.meta.url),
  catalogueName: 'GATEWAY_ERROR_CODES',
  catalogue: GATEWAY_ERROR_CODES,
  configSpec: gatewayConfigSpec,
  prefix: 'GATEWAY',
});
