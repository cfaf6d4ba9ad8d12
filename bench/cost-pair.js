// Paired CPU per operation: two builds of the platform up at once, rounds alternated between them, so both see
// the same load on a shared machine (ADR 0053). bench/cost run twice one after the other cannot tell a 0.3 ms
// change apart here; the difference within each pair can.
//
// Each side is a built tree: this checkout, or a copy of another commit made like this (third-party packages
// shared, the workspaces' own links copied so they point into the copy):
//   git archive <commit> | tar -x -C <dir>; mkdir <dir>/node_modules
//   for e in node_modules/* node_modules/.bin; do [ "$(basename "$e")" = @taidon ] || ln -s "$PWD/$e" <dir>/node_modules/; done
//   cp -a node_modules/@taidon <dir>/node_modules/; ln -s "$PWD/frontend/main/dist" <dir>/frontend/main/; (cd <dir> && npx tsc -b)
// Run: flock /tmp/taidon-bench.lock node bench/cost-pair.js <before-dir> <after-dir>
// Knobs (environment): PAIR_ROUNDS (4 counted), PAIR_WARM_ROUNDS (2, not counted), PAIR_SIGNINS (300) and
// PAIR_REPL_RUNS (600) per round, 8 clients. PAIR_BEFORE_ENV and PAIR_AFTER_ENV (JSON objects of environment
// variables) are added to that side's platform, so one build can be compared with itself under two settings, e.g.
//   PAIR_AFTER_ENV='{"SERVICE_NODE_ARGS":"--max-semi-space-size=32"}' node bench/cost-pair.js . .
// Prints each round's platform CPU per operation (all Node processes,
// as bench/cost's "platform" column) and the difference after - before of each pair.
import { resolve } from 'node:path';

const dirs = process.argv.slice(2, 4).map((d) => resolve(d));
if (dirs.length !== 2) throw new Error('usage: node bench/cost-pair.js <before-dir> <after-dir>');
const CLIENTS = 8;
const ROUNDS = Number(process.env.PAIR_ROUNDS ?? 4);
const WARM = Number(process.env.PAIR_WARM_ROUNDS ?? 2);
const SIGNINS = Number(process.env.PAIR_SIGNINS ?? 300);
const REPL_RUNS = Number(process.env.PAIR_REPL_RUNS ?? 600);
const TAIL = 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g;';
const log = (line) => console.error(`[pair] ${line}`);

/** A side's own environment (PAIR_BEFORE_ENV, PAIR_AFTER_ENV), as a JSON object of strings. */
function sideEnv(name) {
  const text = process.env[name];
  if (!text) return {};
  const env = JSON.parse(text);
  if (typeof env !== 'object' || env === null || Object.values(env).some((v) => typeof v !== 'string')) {
    throw new Error(`${name} must be a JSON object of strings`);
  }
  return env;
}
const sideEnvs = [sideEnv('PAIR_BEFORE_ENV'), sideEnv('PAIR_AFTER_ENV')];

/** One side: its platform started as bench/cost starts it, 8 signed-in sessions on the bench's state. */
async function startSide(dir, ownEnv, name) {
  const { startPlatform } = await import(`${dir}/bench/lib/load-platform.js`);
  const { eventReader } = await import(`${dir}/bench/lib/ndjson.js`);
  const { cpuDelta, formatCpu, platformCpu } = await import(`${dir}/bench/lib/platform-cpu.js`);
  const env = { LOG_LEVEL: 'warn', RATE_LIMIT_IP_MAX: '1000000', RATE_LIMIT_ACCOUNT_MAX: '1000000', ...ownEnv };
  const platform = await startPlatform({ env, log });
  const side = { dir, name, env: ownEnv, platform, signin: [], repl: [] };
  const url = platform.url;
  await platform.admin.query(`UPDATE user_profile.role_quotas SET runs_per_minute = 1000000 WHERE role = 'anonymous'`);
  const signIn = async () => {
    const r = await fetch(`${url}/api/auth/anonymous`, { method: 'POST' });
    if (!r.ok) throw new Error(`sign-in answered ${r.status}: ${await r.text()}`);
    return (await r.json()).accessToken;
  };
  const run = async (token, body) => {
    const response = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const next = eventReader(response.body);
    let sessionId;
    let done;
    for (let e = await next(); e; e = await next()) {
      if (e.type === 'started') sessionId = e.sessionId;
      else if (e.type === 'done') done = e;
      else if (e.type === 'error') throw new Error(`run failed: ${JSON.stringify(e)}`);
    }
    if (done?.outcome !== 'ok') throw new Error(`run failed: ${JSON.stringify(done)}`);
    return sessionId;
  };
  const measure = async (label, n, op) => {
    const before = await platformCpu(platform.pid);
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        while (next < n) {
          next++;
          await op(c);
        }
      }),
    );
    const spent = cpuDelta(before, await platformCpu(platform.pid));
    log(`${name} ${label}: ${(spent.nodeMs / n).toFixed(2)} ms/op (${formatCpu(spent, n)})`);
    return spent.nodeMs / n;
  };
  const tokens = [];
  for (let c = 0; c < CLIENTS; c++) tokens.push(await signIn());
  const sessions = [];
  for (let c = 0; c < CLIENTS; c++) sessions.push(await run(tokens[c], { tail: { sql: TAIL }, head: 'SELECT 1' }));
  side.measureSignIn = () => measure('sign-in', SIGNINS, () => signIn());
  side.measureRepl = () =>
    measure('REPL run', REPL_RUNS, (c) => run(tokens[c], { sessionId: sessions[c], head: 'SELECT count(*) FROM t' }));
  return side;
}

const sides = [];
try {
  for (const [i, dir] of dirs.entries()) sides.push(await startSide(dir, sideEnvs[i], i === 0 ? 'before' : 'after'));
  for (let round = 0; round < WARM + ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const ms = await side.measureSignIn();
      if (round >= WARM) side.signin.push(ms);
    }
    for (const side of order) {
      const ms = await side.measureRepl();
      if (round >= WARM) side.repl.push(ms);
    }
  }
  const fmt = (values) => values.map((v) => v.toFixed(2)).join(' ');
  const mean = (values) => (values.reduce((a, b) => a + b, 0) / values.length).toFixed(2);
  for (const side of sides) {
    console.log(
      `${side.name} (${side.dir}${Object.keys(side.env).length ? ` with ${JSON.stringify(side.env)}` : ''}): sign-in ${fmt(side.signin)} (mean ${mean(side.signin)}); REPL run ${fmt(side.repl)} (mean ${mean(side.repl)})`,
    );
  }
  const diff = (key) => sides[1][key].map((v, i) => v - sides[0][key][i]);
  console.log(
    `after - before, per pair: sign-in ${fmt(diff('signin'))} (mean ${mean(diff('signin'))}); REPL run ${fmt(diff('repl'))} (mean ${mean(diff('repl'))})`,
  );
} finally {
  for (const side of sides) await side.platform.stop().catch((e) => log(`stop: ${e.message}`));
}
