import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createLogger } from '@taidon/kit';
import { openApiDocument } from './openapi-document.js';

// `npm run openapi`: writes the OpenAPI document the gateway serves at
// /api/openapi.json to a file, without starting any service.
const target = resolve(process.argv[2] ?? 'docs/api/openapi.json');
const document = await openApiDocument(createLogger({ service: 'openapi-export', level: 'warn', pretty: false }));
await mkdir(dirname(target), { recursive: true });
await writeFile(target, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
