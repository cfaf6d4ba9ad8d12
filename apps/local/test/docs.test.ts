// The platform's own documents: the root README's variables (the launcher's)
// and the published OpenAPI document. Each service's README is checked by
// its own test/readme.test.ts (kit's describeServiceReadme).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { documentedNames } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { launcherConfigSpec } from '../src/launcher/config.js';

const readme = (path: string) => readFile(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('README.md', () => {
  it('documents every environment variable of npm start', async () => {
    const names = documentedNames(await readme('README.md'));
    expect(Object.keys(launcherConfigSpec).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('docs/api/openapi.json', () => {
  it('is the document the gateway serves (regenerate with `npm run openapi`)', async () => {
    const { openApiDocument } = await import('../../../backend/gateway/src/openapi-document.js');
    const { captureLogger } = await import('@taidon/kit/testing');
    const served = await openApiDocument(captureLogger('gateway').logger);
    expect(JSON.parse(await readme('docs/api/openapi.json'))).toEqual(served);
  });
});
