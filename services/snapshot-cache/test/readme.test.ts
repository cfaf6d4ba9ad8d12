import { describeServiceReadme } from '@taidon/kit/testing';
import { snapshotCacheConfigSpec } from '../src/config.js';
import { SNAPSHOT_CACHE_ERROR_CODES } from '../src/errors.js';

describeServiceReadme({
  service: 'snapshot-cache',
  root: new URL('..', import.meta.url),
  catalogueName: 'SNAPSHOT_CACHE_ERROR_CODES',
  catalogue: SNAPSHOT_CACHE_ERROR_CODES,
  configSpec: snapshotCacheConfigSpec,
  prefix: 'SNAPSHOT_CACHE',
});
