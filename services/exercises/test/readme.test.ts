import { describeServiceReadme } from '@taidon/kit/testing';
import { exercisesConfigSpec } from '../src/config.js';
import { EXERCISES_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'exercises',
  root: new URL('..', import.meta.url),
  catalogueName: 'EXERCISES_ERROR_CODES',
  catalogue: EXERCISES_ERROR_CODES,
  configSpec: exercisesConfigSpec,
  prefix: 'EXERCISES',
});
