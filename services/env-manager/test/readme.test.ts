import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeServiceReadme } from '@taidon/kit/testing';
import { expect, it } from 'vitest';
import { envManagerConfigSpec } from '../src/config.js';
import { ENV_MANAGER_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'env-manager',
  root: new URL('..', import.meta.url),
  catalogueName: 'ENV_MANAGER_ERROR_CODES',
  catalogue: ENV_MANAGER_ERROR_CODES,
  configSpec: envManagerConfigSpec,
  prefix: 'ENV_MANAGER',
});

it('ships its first migration beside the source', () => {
  expect(existsSync(fileURLToPath(new URL('../migrations/001_instances.sql', import.meta.url)))).toBe(true);
});
