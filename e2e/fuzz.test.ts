import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from './harness.js';

// The fuzzing suite: schemathesis (a test tool from PyPI, installed by
// scripts/setup.sh) generates requests from the OpenAPI document the platform
// serves, valid and invalid, and checks every answer against the document: no
// 5xx, every status and media type documented, bodies matching their schemas.
// Against the whole platform as `npm start` runs it; slow by nature.

/** Must match SCHEMATHESIS_VERSION in scripts/setup.sh. */
const SCHEMATHESIS_VERSION = '4.32.5';
const TOOLS_DIR =
  process.env.TAIDON_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'taidon-tools');
const ST = process.env.SCHEMATHESIS_BIN ?? join(TOOLS_DIR, `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'st');
/** Settings the command line cannot give: the statuses that count as refusing invalid data. */
const SETTINGS = fileURLToPath(new URL('schemathesis.toml', import.meta.url));
/** Examples per operation and phase; FUZZ_MAX_EXAMPLES raises it for a longer hunt. */
const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '50';
/** A fixed seed keeps CI repeatable; FUZZ_SEED picks another (the report prints the one used). */
const SEED = process.env.FUZZ_SEED ?? '20261204';

/**
 * Checks left out, and why: `unsupported_method` wants 405 for a method a
 * path does not have (fastify answers 404 problem+json, which is allowed);
 * `positive_data_acceptance` takes any schema-valid body as acceptable, but
 * SQL text that matches `{ sql: string }` can still be a syntax error (422).
 */
const EXCLUDED_CHECKS = 'unsupported_method,positive_data_acceptance';

/** The report with its long lines (a generated URL can be kilobytes) cut, so the tail of it names every failure. */
function report(output: string): string {
  return output
    .split('\n')
    .map((line) => (line.length > 400 ? `${line.slice(0, 400)}… (${line.length} characters)` : line))
    .join('\n')
    .slice(-12_000);
}

interface Fuzzed {
  code: number | null;
  output: string;
}

/** Runs schemathesis against the platform with the given token; operations limited by `pathRegex`. */
function fuzz(platform: Platform, token: string, pathRegex: { include?: string; exclude?: string }): Promise<Fuzzed> {
  const args = [
    '--config-file',
    SETTINGS,
    'run',
    `${platform.url}/api/openapi.json`,
    '--url',
    platform.url,
    '--header',
    `Authorization: Bearer ${token}`,
    '--checks',
    'all',
    '--exclude-checks',
    EXCLUDED_CHECKS,
    '--max-examples',
    MAX_EXAMPLES,
    '--seed',
    SEED,
    '--request-timeout',
    '30',
    '--generation-database',
    'none',
    '--no-color',
    '--warnings',
    'off',
  ];
  if (pathRegex.include) args.push('--include-path-regex', pathRegex.include);
  if (pathRegex.exclude) args.push('--exclude-path-regex', pathRegex.exclude);
  return new Promise((resolve, reject) => {
    const child = spawn(ST, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

async function post(url: string, body?: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function accessToken(response: Response): Promise<string> {
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

/**
 * Makes a registered account an admin as an operator would: in the control
 * plane's database (the platform has no route that grants the first admin).
 */
async function promoteToAdmin(dataDir: string, email: string): Promise<void> {
  const root = join(dataDir, 'control-plane');
  const pid = (await readFile(join(root, 'data', 'postmaster.pid'), 'utf8')).split('\n');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: Number(pid[3]),
    user: 'postgres',
    password: (await readFile(join(root, 'superuser.password'), 'utf8')).trim(),
    database: 'taidon',
  });
  await client.connect();
  try {
    const updated = await client.query(`UPDATE user_profile.accounts SET role = 'admin' WHERE email = $1`, [email]);
    expect(updated.rowCount).toBe(1);
  } finally {
    await client.end();
  }
}

/** The platform is healthy: ready, and a new learner's `SELECT 1` answers. */
async function expectHealthy(platform: Platform): Promise<void> {
  const ready = await fetch(`${platform.url}/health/ready`);
  expect(ready.status, await ready.clone().text()).toBe(200);
  const token = await accessToken(await post(`${platform.url}/api/auth/anonymous`));
  const run = await post(`${platform.url}/api/runs`, { head: 'SELECT 1 AS one' }, token);
  expect(run.status).toBe(200);
  const events = (await run.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; outcome?: string; rows?: unknown[][] });
  expect(events.find((e) => e.type === 'rows')?.rows).toEqual([['1']]);
  expect(events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });
}

/** The account id (`sub`) of an access token. */
function accountOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string }).sub;
}

describe('the OpenAPI document, fuzzed with schemathesis against the whole platform', () => {
  let platform: Platform;
  let adminToken: string;

  beforeAll(async () => {
    if (!existsSync(ST)) {
      throw new Error(`schemathesis is missing at ${ST}: run scripts/setup.sh (it installs it from PyPI)`);
    }
    // The fuzzer sends thousands of requests from one account and one address: lift the rate limits.
    platform = await startPlatform({ RATE_LIMIT_ACCOUNT_MAX: '1000000', RATE_LIMIT_IP_MAX: '1000000' });
    const email = `fuzz-admin-${Date.now()}@example.test`;
    const password = 'fuzzing-password-1';
    await accessToken(await post(`${platform.url}/api/auth/signup`, { email, password }));
    await promoteToAdmin(platform.dataDir, email);
    adminToken = await accessToken(await post(`${platform.url}/api/auth/login`, { email, password }));
  }, 120_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('answers every generated request of a learner with a documented, non-5xx answer, and stays healthy', async () => {
    const token = await accessToken(await post(`${platform.url}/api/auth/anonymous`));
    // An anonymous learner's quotas (60 runs a minute, one instance) would answer most generated runs 429
    // before they reach the run code: lifted for this account, as an admin may.
    const lifted = await fetch(`${platform.url}/api/admin/accounts/${accountOf(token)}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ overrides: { runsPerMinute: 100_000, instances: 4 } }),
    });
    expect(lifted.status, await lifted.clone().text()).toBe(200);
    const result = await fuzz(platform, token, { exclude: '^/api/admin/' });
    expect(result.code, report(result.output)).toBe(0);
    expect(result.output).toMatch(/\d+ generated, \d+ passed/);
    await expectHealthy(platform);
  }, 600_000);

  it('answers every generated request of an admin to the admin routes likewise', async () => {
    const result = await fuzz(platform, adminToken, { include: '^/api/admin/' });
    expect(result.code, report(result.output)).toBe(0);
    expect(result.output).toMatch(/\d+ generated, \d+ passed/);
    await expectHealthy(platform);
  }, 600_000);
});
