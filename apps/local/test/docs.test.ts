import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AUDIT_LOG_ERROR_CODES, auditLogConfigSpec } from '@taidon/audit-log';
import { GATEWAY_ERROR_CODES, gatewayConfigSpec } from '@taidon/gateway';
import { IDP_ERROR_CODES, idpConfigSpec } from '@taidon/idp';
import { SQL_RUNNER_ERROR_CODES, sqlRunnerConfigSpec } from '@taidon/sql-runner';
import { USER_PROFILE_ERROR_CODES, userProfileConfigSpec } from '@taidon/user-profile';
import { describe, expect, it } from 'vitest';
import { launcherConfigSpec } from '../src/launcher/config.js';

const readme = (path: string) => readFile(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

/** Names in the first column of the README's tables, between backticks. */
function documented(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const first = /^\|\s*([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (match[1]) names.add(match[1]);
  }
  return names;
}

const services = [
  { readme: 'services/audit-log/README.md', codes: AUDIT_LOG_ERROR_CODES, config: auditLogConfigSpec },
  { readme: 'services/idp/README.md', codes: IDP_ERROR_CODES, config: idpConfigSpec },
  { readme: 'services/sql-runner/README.md', codes: SQL_RUNNER_ERROR_CODES, config: sqlRunnerConfigSpec },
  { readme: 'backend/gateway/README.md', codes: GATEWAY_ERROR_CODES, config: { ...gatewayConfigSpec } },
  { readme: 'services/user-profile/README.md', codes: USER_PROFILE_ERROR_CODES, config: userProfileConfigSpec },
  { readme: 'README.md', codes: {}, config: launcherConfigSpec },
];

describe('service READMEs', () => {
  for (const service of services) {
    it(`${service.readme} documents every error code and environment variable`, async () => {
      const names = documented(await readme(service.readme));
      const missing = [...Object.keys(service.codes), ...Object.keys(service.config)].filter(
        (name) => !names.has(name),
      );
      expect(missing).toEqual([]);
    });
  }

  it('every documented error code is still answered by its service', async () => {
    for (const service of services.filter((s) => s.readme !== 'README.md')) {
      const text = await readme(service.readme);
      const section = text.split('## Errors')[1]?.split('\n## ')[0] ?? '';
      const stale = [...documented(section)].filter((code) => !(code in service.codes));
      expect(stale, service.readme).toEqual([]);
    }
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
