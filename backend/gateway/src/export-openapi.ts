import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createLogger } from '@taidon/kit';
import { buildApp } from './app.js';

// `npm run openapi`: writes the OpenAPI document the gateway serves at
// /api/openapi.json to a file, without starting any service.
const target = resolve(process.argv[2] ?? 'docs/api/openapi.json');
const app = buildApp({
  config: {
    IDP_URL: 'http://127.0.0.1:9',
    SQL_RUNNER_URL: 'http://127.0.0.1:9',
    SERVICE_TOKEN: 'unused',
    ACCESS_TOKEN_ISSUER: 'taidon-idp',
    ACCESS_TOKEN_AUDIENCE: 'taidon',
    UPSTREAM_TIMEOUT_MS: 1_000,
  },
  logger: createLogger({ service: 'openapi-export', level: 'warn', pretty: false }),
});
await app.ready();
await mkdir(dirname(target), { recursive: true });
await writeFile(target, `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
process.stdout.write(`wrote ${target}\n`);
