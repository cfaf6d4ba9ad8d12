// Grading latency of exercises (issue 18), through the gateway, beside its
// baseline measured in the same run on the same machine:
//
// - the baseline: the exercise's reference query run once on a learner's warm
//   session instance (a head-only run continuing the session; POST /api/runs
//   to its `done` event);
// - an attempt (POST /api/exercises/{id}/attempts, submit to verdict) of a
//   query exercise with 1 and with 3 hidden datasets (2 and 4 states with the
//   start state), with the publication's warm instances on (its layer hold
//   asks one started instance per state, ADR 0044; each sample waits until
//   the exercise is warm again: the pools refilled and sql-runner's
//   connections to them open, GET /layer-holds; that wait, from the last
//   verdict, is a row of its own: how soon the next attempt at the same
//   exercise finds it warm) and off (the same hold with warm 0: every state a
//   new clone);
// - the publish time of each exercise (mutants measured on every state);
// - the publish of a pack of BENCH_PACK_EXERCISES (70) exercises on one start
//   state (POST /api/exercise-packs with publish: true, one call), each with
//   one hidden dataset: the wall time to every exercise published and the
//   mean per exercise; exercises the pack's budget did not reach are then
//   published one by one and counted in the wall time;
// - the memory of an idle warm instance (RSS and PSS of its server processes).
//
// Goal (issue 18): a verdict over 3 hidden datasets in at most 2x the
// baseline, p50.
//
// The platform runs as `npm start` runs it (apps/local's launcher in a child
// process, each service a process of its own, bench/lib/load-platform.js), so
// an attempt's work in the exercises service, sql-runner and env-manager is
// spread over the machine's cores as it is for learners; CPU figures are the
// platform's Node processes' (utime + stime from /proc, read around each
// sample).
//
// Run after `npm run build`: flock /tmp/taidon-bench.lock node bench/grading.js
// Knobs (environment): BENCH_ATTEMPTS (20), BENCH_WARMUP (3), BENCH_ROWS (300),
// BENCH_PACK_EXERCISES (70; 0 leaves the pack out), BENCH_CPU_PROFILE_DIR (a directory: every platform
// process writes its V8 CPU profile there at its exit, bench/lib/cpu-profile-preload.cjs, and windows.json
// holds the counted samples of the row "3 hidden, warm pool on" for bench/lib/profile-summary.js --windows).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gatewayClient, runFailure } from './lib/gateway-client.js';
import { servicePorts, startPlatform } from './lib/load-platform.js';
import { cpuDelta, formatCpu, platformCpu } from './lib/platform-cpu.js';

const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 300);
const PACK_EXERCISES = Number(process.env.BENCH_PACK_EXERCISES ?? 70);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;
/** The counted attempts of the row "3 hidden, warm pool on", [start, end] in µs of the monotonic clock V8's
 * profiles use too (so the windows hold in every process's profile). */
const profileWindows = [];

const log = (line) => process.stderr.write(`[grading] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const fmt = (value) => (value === undefined ? '–' : value.toFixed(1));

const SETUP = `CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, dept text NOT NULL, salary int NOT NULL, bonus int);
INSERT INTO employees SELECT g, 'employee ' || g, (ARRAY['eng','ops','sales','hr'])[1 + g % 4], 1000 + (g * 37) % 900, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 50 END FROM generate_series(1, ${ROWS}) g;
`;
const SOLUTION = `SELECT name, salary + coalesce(bonus, 0) AS pay FROM employees WHERE dept = 'eng' ORDER BY pay DESC, name LIMIT 5`;
const DATASETS = [
  { name: 'ties', sql: `UPDATE employees SET salary = 1899, bonus = 0 WHERE id IN (4, 8, 12);\n` },
  { name: 'nulls', sql: `UPDATE employees SET bonus = NULL WHERE id % 3 = 0;\n` },
  { name: 'fewer', sql: `DELETE FROM employees WHERE id % 2 = 0 AND dept = 'eng' AND id > 40;\n` },
];

const platform = await startPlatform({
  // The bench times grading, not the rate limits: one learner sends far more than a class would.
  env: {
    LOG_LEVEL: 'warn',
    RATE_LIMIT_ACCOUNT_MAX: '1000000',
    RATE_LIMIT_IP_MAX: '1000000',
    ...(PROFILE_DIR
      ? {
          NODE_OPTIONS: `--require ${fileURLToPath(new URL('./lib/cpu-profile-preload.cjs', import.meta.url))}`,
          TAIDON_CPU_PROFILE_DIR: PROFILE_DIR,
        }
      : {}),
  },
  log,
});
const gatewayUrl = platform.url;
// sql-runner's internal routes (layer holds, throwaway queries), as the exercises service calls them.
const { serviceToken } = JSON.parse(await readFile(join(platform.root, 'data', 'secrets.json'), 'utf8'));
const sqlRunnerPort = [...(await servicePorts(platform.pid))].find(([, name]) => name === 'sql-runner')?.[0];
if (!sqlRunnerPort) throw new Error('no sql-runner process listening under the platform');
const sqlRunnerUrl = `http://127.0.0.1:${sqlRunnerPort}`;
// The control plane as its superuser: the roles, holds and pools this bench sets up and waits for.
const db = platform.admin;
// The benches time runs, not quotas: one bench account sends far more than a learner's 60 runs a minute.
await db.query(`UPDATE user_profile.role_quotas SET runs_per_minute = 1000000 WHERE role = 'anonymous'`);

async function api(token, method, path, body) {
  const started = performance.now();
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  return { status: response.status, json: text ? JSON.parse(text) : undefined, text, ms };
}
const expectStatus = (answer, status, what) => {
  if (answer.status !== status) throw new Error(`${what} answered ${answer.status}: ${answer.text.slice(0, 800)}`);
  return answer;
};

/** A registered account made an instructor (as an admin would, through its role), and its token. */
async function instructorToken() {
  const credentials = { email: `bench-${Date.now()}@example.org`, password: 'bench-password-1' };
  expectStatus(await api(undefined, 'POST', '/api/auth/signup', credentials), 201, 'signup');
  await db.query(`UPDATE user_profile.accounts SET role = 'instructor' WHERE email = $1`, [credentials.email]);
  return expectStatus(await api(undefined, 'POST', '/api/auth/login', credentials), 200, 'login').json.accessToken;
}

/** The keys of an exercise's states (start, then each hidden dataset), as the platform plans them. */
async function stateKeys(token, datasets) {
  const keys = [];
  for (const dataset of [undefined, ...datasets]) {
    const files = [{ path: 'setup.sql', sql: SETUP }];
    if (dataset) files.push({ path: `datasets/${dataset.name}.sql`, sql: dataset.sql });
    keys.push(expectStatus(await api(token, 'POST', '/api/plan', { files }), 200, 'plan').json.finalKey);
  }
  return keys;
}

/**
 * Holds an exercise's states with `warm` started instances each, as its publish does (warm 1), through
 * sql-runner's internal route: the bench turns the warm pool of graders off (warm 0) and on again.
 */
async function holdWarm(exercise, warm) {
  const response = await fetch(`${sqlRunnerUrl}/layer-holds/exercise:${exercise.id}`, {
    method: 'PUT',
    headers: { 'x-taidon-service-token': serviceToken, 'content-type': 'application/json' },
    body: JSON.stringify({ keys: exercise.keys, warm }),
  });
  if (!response.ok) throw new Error(`layer hold answered ${response.status}: ${await response.text()}`);
  const answer = await response.json();
  if (answer.keys.some((k) => !k.pinned))
    throw new Error(`a state of the exercise has no layer: ${JSON.stringify(answer)}`);
  return exercise.keys;
}

/** Waits until every key's pool holds its declared demand, Running, none starting. */
async function poolsFull(keys, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(
      `SELECT d.key, d.size,
              count(i.id) FILTER (WHERE i.state = 'Running')::int AS ready,
              count(i.id) FILTER (WHERE i.state IN ('Pending', 'Creating'))::int AS starting
         FROM env_manager.warm_pool_demand d
         LEFT JOIN env_manager.instances i ON i.pooled AND i.pool_key = d.key
        WHERE d.key = ANY($1) GROUP BY d.key, d.size`,
      [keys],
    );
    const full = keys.every((key) => {
      const row = rows.find((r) => r.key === key);
      return row ? row.ready === row.size && row.starting === 0 : true;
    });
    if (full) return rows;
    if (Date.now() > deadline) throw new Error(`pools not full after ${timeoutMs} ms: ${JSON.stringify(rows)}`);
    await sleep(10);
  }
}

/**
 * Waits until the exercise is warm as a learner's attempt finds it once the last attempt's refills are done: every
 * key's pool full (poolsFull) and sql-runner's connections to those instances open and warmed (`prepared` of
 * `GET /layer-holds/exercise:<id>`, ADR 0052), so a grader's clone starts on a connection of its own. Answers the
 * milliseconds it waited.
 */
async function warmAgain(exercise, timeoutMs = 120_000) {
  const started = performance.now();
  await poolsFull(exercise.keys, timeoutMs);
  for (const deadline = Date.now() + timeoutMs; ; await sleep(10)) {
    const response = await fetch(`${sqlRunnerUrl}/layer-holds/exercise:${exercise.id}`, {
      headers: { 'x-taidon-service-token': serviceToken },
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`layer hold answered ${response.status}: ${JSON.stringify(answer)}`);
    if (answer.keys.every((k) => k.prepared >= k.warm)) return performance.now() - started;
    if (Date.now() > deadline) throw new Error(`no connections ready after ${timeoutMs} ms: ${JSON.stringify(answer)}`);
  }
}

/** Resident and proportional memory of a sandbox server: its postmaster and every child of it. */
async function serverMemory(pid) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=', '--ppid', String(pid)]);
  const pids = [pid, ...stdout.split('\n').map(Number).filter(Boolean)];
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    const text = await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => '');
    rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1024;
    pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1024;
  }
  return { processes: pids.length, rss, pss };
}

const table = [];
const notes = [];

/** A sample of the CPU the platform's processes (each service's Node process, the control plane) used so far. */
const cpuNow = () => platformCpu(platform.pid);

const client = gatewayClient(gatewayUrl);

/** A run through the gateway, read to its end: its session and its `done` event (a failed run throws). */
async function runHead(token, body) {
  const answer = await client.run(token, body);
  const failure = runFailure(answer);
  if (failure) throw failure;
  return answer;
}

/**
 * Where a warm 3-hidden attempt's time goes: the exercises service's own time (its `timings.totalMs`, from the
 * request's arrival to the verdict), sql-runner's part timed without the exercises service (the 4 states in one
 * batch as it sends them, and the start state's alone), with the longest entry's own time on its clone, and the
 * CPU the platform's Node processes spend on one attempt and on one baseline run.
 */
async function breakdown(exercise, measured, { baseline, runCpu, learner }) {
  log('breakdown of an attempt, 3 hidden, warm pool on');
  const accountId = JSON.parse(Buffer.from(learner.split('.')[1], 'base64url').toString()).sub;
  const tails = [undefined, ...DATASETS].map((dataset) => {
    const files = [{ path: 'setup.sql', sql: SETUP }];
    if (dataset) files.push({ path: `datasets/${dataset.name}.sql`, sql: dataset.sql });
    return { files };
  });
  /** A POST to sql-runner's grader routes as the exercises service makes it, for the learner; its answer parsed. */
  const toRunner = async (path, body) => {
    const response = await fetch(`${sqlRunnerUrl}${path}`, {
      method: 'POST',
      headers: {
        'x-taidon-service-token': serviceToken,
        'x-taidon-account': accountId,
        'x-taidon-role': 'anonymous',
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return { answer: JSON.parse(text), text };
  };
  const request = (tail) => ({ tail, statements: [{ sql: SOLUTION }], timeoutMs: 5000 });
  const grade = async (tail) => {
    const started = performance.now();
    const { answer, text } = await toRunner('/throwaway/queries', request(tail));
    if (!answer.results[0]?.ok) throw new Error(`the reference failed on its clone: ${text.slice(0, 500)}`);
    return { ms: performance.now() - started, entryMs: answer.results[0].ms };
  };
  // The four in one request, as the exercises service sends an attempt's datasets (ADR 0056).
  const gradeAll = async () => {
    const started = performance.now();
    const { answer, text } = await toRunner('/throwaway/query-batches', { requests: tails.map(request) });
    const { answers } = answer;
    if (!answers.every((a) => a.ok && a.answer.results[0]?.ok))
      throw new Error(`the reference failed on a clone: ${text.slice(0, 500)}`);
    return { ms: performance.now() - started, entryMs: Math.max(...answers.map((a) => a.answer.results[0].ms)) };
  };
  const four = { ms: [], entryMs: [], cpu: [] };
  const one = { ms: [], entryMs: [], cpu: [] };
  for (let i = 0; i < WARMUP + ATTEMPTS; i++) {
    await warmAgain(exercise);
    let cpu = await cpuNow();
    const all = await gradeAll();
    if (i >= WARMUP) {
      four.ms.push(all.ms);
      four.entryMs.push(all.entryMs);
      four.cpu.push(cpuDelta(cpu, await cpuNow()));
    }
    await warmAgain(exercise);
    cpu = await cpuNow();
    const alone = await grade(tails[0]);
    if (i >= WARMUP) {
      one.ms.push(alone.ms);
      one.entryMs.push(alone.entryMs);
      one.cpu.push(cpuDelta(cpu, await cpuNow()));
    }
  }
  const row = (label, values, ratio = true) => {
    const p50 = quantile(values, 0.5);
    table.push([`  ${label}`, values.length, p50, quantile(values, 0.95), ratio ? p50 / baseline : undefined, '']);
  };
  row('of which the exercises service (timings.totalMs)', measured.serverMs);
  row('sql-runner alone: the 4 states in one batch, to its answer', four.ms);
  row('  the longest entry on its clone (results[].ms, whole ms)', four.entryMs);
  row('sql-runner alone: the start state only', one.ms);
  row('  its entry on its clone (results[].ms, whole ms)', one.entryMs);
  // /proc counts CPU in 10 ms ticks: a mean over the samples, not a quantile of ticks, and by service in a note.
  const cpuRow = (label, deltas) => {
    const sum = (pick) => deltas.reduce((total, d) => total + pick(d), 0) / deltas.length;
    table.push([`  ${label}, mean`, deltas.length, sum((d) => d.nodeMs), undefined, undefined, '']);
    const byName = {};
    for (const d of deltas) for (const [name, ms] of Object.entries(d.byName)) byName[name] = (byName[name] ?? 0) + ms;
    notes.push(`${label}, ms by process (mean of ${deltas.length}): ${formatCpu({ byName }, deltas.length)}`);
  };
  cpuRow("CPU of the platform's Node processes per attempt", measured.cpu);
  cpuRow('the same per 4 states at once on sql-runner', four.cpu);
  cpuRow('the same per start state alone on sql-runner', one.cpu);
  cpuRow('the same per baseline run', runCpu);
}

/**
 * A pack of PACK_EXERCISES exercises on the attempts' start state, imported and published in one call: each finds
 * the employee of one id (7 mutants: the comparison and the literal), with the `ties` hidden dataset, shared by
 * all of them (one layer). Exercises the pack's publish budget (EXERCISES_PACK_PUBLISH_BUDGET_MS) left drafts
 * are published one by one after it, their time counted in the wall time.
 */
async function publishPack(instructor) {
  log(`importing and publishing a pack of ${PACK_EXERCISES} exercises`);
  const exercises = Array.from({ length: PACK_EXERCISES }, (_, i) => ({
    slug: `employee-${i + 1}`,
    title: `Employee number ${i + 1}`,
    task: `The name of the employee whose id is ${i + 1}.`,
    solution: `SELECT name FROM employees WHERE id = ${i + 1}`,
    datasets: [DATASETS[0]],
  }));
  const started = performance.now();
  const pack = expectStatus(
    await api(instructor, 'POST', '/api/exercise-packs', {
      slug: 'bench-pack',
      title: `${PACK_EXERCISES} exercises on one start state`,
      setup: { sql: SETUP },
      exercises,
      publish: true,
    }),
    201,
    'pack',
  );
  const outcomes = pack.json.exercises;
  const left = outcomes.filter((o) => o.status !== 'published');
  const codes = new Map();
  for (const o of left) codes.set(o.refused?.code ?? 'none', (codes.get(o.refused?.code ?? 'none') ?? 0) + 1);
  let mutants = outcomes.reduce((sum, o) => sum + (o.mutants ?? 0), 0);
  for (const o of left) {
    let answer = await api(instructor, 'POST', `/api/exercises/${o.id}/publish`);
    for (let i = 0; i < 30 && answer.status === 503; i++) {
      await sleep(1000);
      answer = await api(instructor, 'POST', `/api/exercises/${o.id}/publish`);
    }
    mutants += expectStatus(answer, 200, 'publish of a pack exercise').json.report.mutants;
  }
  const wallMs = performance.now() - started;
  table.push([
    `publish of a pack of ${PACK_EXERCISES} exercises, 1 hidden each (${mutants} mutants on 2 states), wall`,
    1,
    wallMs,
    wallMs,
    undefined,
    '',
  ]);
  table.push([`  the same, per exercise (mean)`, PACK_EXERCISES, wallMs / PACK_EXERCISES, undefined, undefined, '']);
  notes.push(
    `the pack: start state ${pack.json.startState.source}; ${outcomes.length - left.length} published by the pack's call in ${fmt(pack.json.publishMs)} ms` +
      (left.length > 0
        ? `, ${left.length} left drafts (${[...codes].map(([c, n]) => `${n} ${c}`).join(', ')}) then published one by one`
        : ''),
  );
}
try {
  const instructor = await instructorToken();
  const exercise = async (slug, datasets) => {
    const created = expectStatus(
      await api(instructor, 'POST', '/api/exercises', {
        slug,
        title: `Top earners (${datasets.length} hidden)`,
        task: 'The five best-paid engineers with their pay (salary plus bonus), best first, ties by name.',
        setup: { sql: SETUP },
        solution: SOLUTION,
        datasets,
      }),
      201,
      'create',
    ).json;
    // A busy grader (503, Retry-After) is the documented answer while the last publish's clones are deleted.
    let answer = await api(instructor, 'POST', `/api/exercises/${created.id}/publish`);
    for (let i = 0; i < 30 && answer.status === 503; i++) {
      notes.push(
        `a publish of ${slug} was answered 503 (grader busy) and sent again after 1 s; its time is the last try's`,
      );
      await sleep(1000);
      answer = await api(instructor, 'POST', `/api/exercises/${created.id}/publish`);
    }
    const published = expectStatus(answer, 200, 'publish');
    const { report } = published.json;
    table.push([
      `publish of one exercise, ${datasets.length} hidden (${report.mutants} mutants on ${datasets.length + 1} states)`,
      1,
      published.ms,
      published.ms,
      undefined,
      '',
      '',
    ]);
    return { id: created.id, keys: await stateKeys(instructor, datasets) };
  };
  log('publishing the two exercises');
  const one = await exercise('bench-top-earners-1', DATASETS.slice(0, 1));
  const three = await exercise('bench-top-earners-3', DATASETS);

  // The baseline: the reference on a learner's warm session instance, continuing the session.
  const learner = await client.signIn();
  const opened = await runHead(learner, { tail: { sql: SETUP }, head: SOLUTION });
  const runs = [];
  const runCpu = [];
  for (let i = 0; i < WARMUP + ATTEMPTS; i++) {
    const cpu = await cpuNow();
    const started = performance.now();
    const r = await runHead(learner, { sessionId: opened.sessionId, head: SOLUTION });
    if (r.done.source !== undefined && r.done.source !== 'session')
      notes.push(`a baseline run came from ${r.done.source}`);
    if (i >= WARMUP) {
      runs.push(performance.now() - started);
      runCpu.push(cpuDelta(cpu, await cpuNow()));
    }
  }
  const baseline = quantile(runs, 0.5);
  table.push([
    'baseline: the reference run on the session instance',
    ATTEMPTS,
    baseline,
    quantile(runs, 0.95),
    1,
    '',
    '',
  ]);

  const attempt = async (id) => {
    const answer = expectStatus(
      await api(learner, 'POST', `/api/exercises/${id}/attempts`, { sql: SOLUTION }),
      200,
      'attempt',
    );
    if (!answer.json.passed) throw new Error(`the reference failed its own exercise: ${answer.text.slice(0, 500)}`);
    return answer;
  };
  const measure = async (label, exercise, warm, profiled = false) => {
    log(label);
    const keys = await holdWarm(exercise, warm);
    const samples = [];
    const serverMs = [];
    const cpu = [];
    const refillMs = [];
    for (let i = 0; i < WARMUP + ATTEMPTS; i++) {
      if (warm > 0) {
        const waited = await warmAgain(exercise);
        if (i > WARMUP) refillMs.push(waited);
      } else await poolsFull([]);
      const before = await cpuNow();
      const from = process.hrtime.bigint() / 1000n;
      const answer = await attempt(exercise.id);
      if (profiled && i >= WARMUP) profileWindows.push([Number(from), Number(process.hrtime.bigint() / 1000n)]);
      if (i >= WARMUP) {
        samples.push(answer.ms);
        serverMs.push(answer.json.timings.totalMs);
        cpu.push(cpuDelta(before, await cpuNow()));
      }
    }
    const p50 = quantile(samples, 0.5);
    table.push([label, ATTEMPTS, p50, quantile(samples, 0.95), p50 / baseline, '', '']);
    if (refillMs.length > 0) {
      // From an attempt's verdict until its states are warm again: how soon the next attempt at the same exercise
      // finds them so (a later one takes a pooled instance without a prepared connection, or a new clone).
      table.push([
        '  until warm again after it (refills started, connected)',
        refillMs.length,
        quantile(refillMs, 0.5),
        quantile(refillMs, 0.95),
        undefined,
        '',
      ]);
    }
    return { p50, keys, serverMs, cpu };
  };
  // Off first (each exercise's hold with warm 0), then on (warm 1, as a publish leaves it).
  await holdWarm(one, 0);
  await holdWarm(three, 0);
  await measure('attempt, 1 hidden (2 states), warm pool off', one, 0);
  await measure('attempt, 3 hidden (4 states), warm pool off', three, 0);
  await holdWarm(one, 1);
  await measure('attempt, 1 hidden (2 states), warm pool on', one, 1);
  const on3 = await measure('attempt, 3 hidden (4 states), warm pool on', three, 1, true);
  const ratio = on3.p50 / baseline;
  table.push([
    'goal: 3 hidden, warm on, p50 <= 2x baseline',
    '',
    on3.p50,
    undefined,
    ratio,
    ratio <= 2 ? 'PASS' : 'FAIL',
    '',
  ]);
  await breakdown(three, on3, { baseline, runCpu, learner });

  // An idle warm instance's memory: what each unit of THROWAWAY_WARM_MAX costs.
  const pools = await poolsFull(on3.keys);
  const { rows } = await db.query(
    `SELECT pid FROM env_manager.instances WHERE pooled AND state = 'Running' AND pool_key = ANY($1) AND pid IS NOT NULL`,
    [on3.keys],
  );
  const memories = [];
  for (const { pid } of rows) memories.push(await serverMemory(pid));
  if (memories.length > 0) {
    const rss = quantile(
      memories.map((m) => m.rss),
      0.5,
    );
    const pss = quantile(
      memories.map((m) => m.pss),
      0.5,
    );
    notes.push(
      `an idle warm instance (median of ${memories.length}, ${memories[0].processes} processes each): RSS ${(rss / 1024 ** 2).toFixed(1)} MiB, PSS ${(pss / 1024 ** 2).toFixed(1)} MiB; pools ${pools.map((p) => `${p.key.slice(0, 8)}=${p.ready}`).join(' ')}`,
    );
  }

  // Last: its publishes hold 70 more states warm, which would change what the attempts above take.
  if (PACK_EXERCISES > 0) await publishPack(instructor);
} finally {
  const header = ['operation', 'n', 'p50 ms', 'p95 ms', 'x baseline', 'goal'];
  const lines = [
    header,
    ...table.map((r) => [
      r[0],
      String(r[1]),
      fmt(r[2]),
      fmt(r[3]),
      r[4] === undefined ? '' : `${r[4].toFixed(2)}x`,
      r[5] ?? '',
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const line of lines) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  console.log('');
  console.log(
    `time = client side through the gateway: an attempt from sending it to its verdict, the baseline from sending the run to its done event; the learner is anonymous; ${WARMUP} discarded samples before each row`,
  );
  console.log(`reference: ${SOLUTION}; ${ROWS} employees; hidden datasets: ${DATASETS.map((d) => d.name).join(', ')}`);
  for (const note of notes) console.log(note);
  const stopped = await platform.stop();
  if (PROFILE_DIR) {
    await writeFile(join(PROFILE_DIR, 'windows.json'), JSON.stringify(profileWindows));
    console.log(
      `CPU profiles of every platform process in ${PROFILE_DIR}; the counted attempts of "3 hidden, warm pool on": node bench/lib/profile-summary.js <profile> --windows ${join(PROFILE_DIR, 'windows.json')} (the CPU and times above include each process's profiler: several ms a sample even in idle services)`,
    );
  }
  if (stopped.left.processes.length > 0 || stopped.left.mounts.length > 0)
    console.log(`left behind after the stop: ${JSON.stringify(stopped.left)}`);
  await platform.removeRoot();
}
