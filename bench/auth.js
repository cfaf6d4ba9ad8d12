// Sign-in throughput and the gateway's cost, on this machine: password
// sign-ins per second and refresh-token rotations per second through the
// gateway (idp + the real user-profile + PostgreSQL behind it), and the
// latency the gateway adds to one request (token check, cookie handling,
// forwarding) compared with calling the service directly.
//
// Run after `npm run build` (or `npm run bench:auth`):
//   node bench/auth.js [--seconds 10] [--concurrency 4] [--samples 400]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildApp as buildGateway } from '../backend/gateway/dist/app.js';
import { createLogger, createPool, provisionServiceDatabase, startPostgresServer } from '../backend/kit/dist/index.js';
import { buildApp as buildIdp, migrateIdp } from '../services/idp/dist/index.js';
import { buildApp as buildSqlRunner, SANDBOX_RESULT_SETTINGS } from '../services/sql-runner/dist/index.js';
import { buildApp as buildUserProfile, migrateUserProfile } from '../services/user-profile/dist/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    samples: { type: 'string', default: '400' },
  },
});
const SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const SAMPLES = Number(args.samples);
const TOKEN = 'bench-service-token';
const PASSWORD = 'bench password 1';

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const ms = (n) => n.toFixed(2);

async function start(root) {
  const server = await startPostgresServer({ rootDir: root });
  const logger = createLogger({ service: 'bench', level: 'warn', pretty: false });
  const apps = [];
  const pools = [];
  const listen = async (app) => {
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  const profileDb = await provisionServiceDatabase(server.url, 'user-profile', 'bench-profile');
  const profilePool = createPool(profileDb.url, { applicationName: 'bench-user-profile' });
  pools.push(profilePool);
  await migrateUserProfile(profilePool);
  const userProfileUrl = await listen(
    buildUserProfile({ config: { SERVICE_TOKEN: TOKEN }, pool: profilePool, logger }),
  );
  const idpDb = await provisionServiceDatabase(server.url, 'idp', 'bench-idp');
  const idpPool = createPool(idpDb.url, { applicationName: 'bench-idp' });
  pools.push(idpPool);
  await migrateIdp(idpPool);
  const config = {
    IDP_ISSUER: 'taidon-idp',
    ACCESS_TOKEN_AUDIENCE: 'taidon',
    ACCESS_TOKEN_TTL_SECONDS: 900,
    SERVICE_TOKEN: TOKEN,
    USER_PROFILE_URL: userProfileUrl,
  };
  const idpUrl = await listen(buildIdp({ config, pool: idpPool, logger }));
  const sqlRunnerUrl = await listen(
    buildSqlRunner({
      config: { SERVICE_TOKEN: TOKEN },
      engine: { version: '18', settings: SANDBOX_RESULT_SETTINGS },
      logger,
    }),
  );
  const gatewayUrl = await listen(
    buildGateway({
      config: {
        IDP_URL: idpUrl,
        SQL_RUNNER_URL: sqlRunnerUrl,
        SERVICE_TOKEN: TOKEN,
        ACCESS_TOKEN_ISSUER: 'taidon-idp',
        ACCESS_TOKEN_AUDIENCE: 'taidon',
        UPSTREAM_TIMEOUT_MS: 10_000,
        // One client address sends everything here: the per-address limit of public routes would stop the bench.
        RATE_LIMIT_IP_MAX: 1_000_000,
        RATE_LIMIT_ACCOUNT_MAX: 1_000_000,
      },
      logger,
    }),
  );
  return {
    gatewayUrl,
    idpUrl,
    sqlRunnerUrl,
    async stop() {
      for (const app of apps.reverse()) await app.close();
      for (const pool of pools) await pool.end();
      await server.stop();
    },
  };
}

async function post(url, body, headers = {}) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text}`);
  return { elapsed, response, body: text ? JSON.parse(text) : undefined };
}

const cookieOf = (response) => {
  const line = response.headers.getSetCookie().find((l) => l.startsWith('taidon_refresh='));
  return line?.split(';')[0] ?? '';
};

/** `workers` loops of `step` for SECONDS; returns per-second rate and latencies. */
async function sustained(workers, step) {
  const latencies = [];
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    workers.map(async (state) => {
      while (performance.now() < deadline) latencies.push(await step(state));
    }),
  );
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / ((performance.now() - started) / 1000), latencies };
}

async function sequential(n, step) {
  const latencies = [];
  for (let i = 0; i < n; i++) latencies.push(await step());
  return latencies.sort((a, b) => a - b);
}

const root = await mkdtemp(join(tmpdir(), 'taidon-bench-auth-'));
const platform = await start(root);
try {
  const g = platform.gatewayUrl;
  const emails = Array.from({ length: CONCURRENCY }, (_, i) => `bench${i}@example.test`);
  for (const email of emails) await post(`${g}/api/auth/signup`, { email, password: PASSWORD });

  const password = await sustained(
    emails.map((email) => ({ email })),
    async ({ email }) => (await post(`${g}/api/auth/login`, { email, password: PASSWORD })).elapsed,
  );

  const sessions = [];
  for (let i = 0; i < CONCURRENCY; i++)
    sessions.push({ cookie: cookieOf((await post(`${g}/api/auth/anonymous`)).response) });
  const refresh = await sustained(sessions, async (session) => {
    const answer = await post(`${g}/api/auth/refresh`, undefined, { cookie: session.cookie });
    session.cookie = cookieOf(answer.response);
    return answer.elapsed;
  });

  // Added latency: the same request through the gateway and straight to the service, one at a time.
  const signIn = await post(`${g}/api/auth/anonymous`);
  const token = signIn.body.accessToken;
  const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;
  const planBody = { sql: 'select 1' };
  const viaGateway = await sequential(
    SAMPLES,
    async () => (await post(`${g}/api/plan`, planBody, { authorization: `Bearer ${token}` })).elapsed,
  );
  const direct = await sequential(
    SAMPLES,
    async () =>
      (
        await post(`${platform.sqlRunnerUrl}/plan`, planBody, {
          'x-taidon-service-token': TOKEN,
          'x-taidon-account': sub,
          'x-taidon-role': 'anonymous',
        })
      ).elapsed,
  );
  let cookie = cookieOf(signIn.response);
  const refreshGateway = await sequential(SAMPLES / 4, async () => {
    const answer = await post(`${g}/api/auth/refresh`, undefined, { cookie });
    cookie = cookieOf(answer.response);
    return answer.elapsed;
  });
  let raw = (await post(`${platform.idpUrl}/auth/anonymous`, undefined, { 'x-taidon-service-token': TOKEN })).body
    .refreshToken;
  const refreshDirect = await sequential(SAMPLES / 4, async () => {
    const answer = await post(
      `${platform.idpUrl}/auth/refresh`,
      { refreshToken: raw },
      { 'x-taidon-service-token': TOKEN },
    );
    raw = answer.body.refreshToken;
    return answer.elapsed;
  });

  console.log(
    `\nSign-in throughput through the gateway (${CONCURRENCY} concurrent clients, ${SECONDS} s each, ${cpus().length} cores)\n`,
  );
  console.log('| flow | per second | p50 ms | p95 ms |');
  console.log('|---|---|---|---|');
  for (const [name, r] of [
    ['password sign-in (scrypt N=2^15)', password],
    ['refresh rotation', refresh],
  ]) {
    console.log(
      `| ${name} | ${r.rate.toFixed(1)} | ${ms(quantile(r.latencies, 0.5))} | ${ms(quantile(r.latencies, 0.95))} |`,
    );
  }
  console.log(`\nGateway added latency, one request at a time\n`);
  console.log('| request | via gateway p50 ms | direct p50 ms | added p50 ms | via gateway p95 ms | direct p95 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, via, dir] of [
    [`POST /api/plan (bearer check + forward), ${SAMPLES}×`, viaGateway, direct],
    [`POST /api/auth/refresh (cookie + forward), ${SAMPLES / 4}×`, refreshGateway, refreshDirect],
  ]) {
    const p50 = quantile(via, 0.5);
    const d50 = quantile(dir, 0.5);
    console.log(
      `| ${name} | ${ms(p50)} | ${ms(d50)} | ${ms(p50 - d50)} | ${ms(quantile(via, 0.95))} | ${ms(quantile(dir, 0.95))} |`,
    );
  }
} finally {
  await platform.stop();
  await rm(root, { recursive: true, force: true });
}
