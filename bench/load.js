// Load of many anonymous learners on this machine: each signs in, starts one
// of a handful of exercise states (first run = tail + SELECT), then keeps
// typing into the REPL (head only, same session: small SELECT/INSERT/UPDATE,
// now and then a mistake), thinking 5–20 s between runs; 10% of its runs are
// a "reset" (the tail again). Some learners leave early (their instances go
// idle and env-manager suspends them) and some take a break longer than the
// idle TTL and come back ("resume"). Learners arrive evenly over a ramp-up;
// after --seconds no run is started, the ones in flight drain, the platform
// is stopped with SIGTERM and the run checks nothing is left behind.
// Prints runs/s, p50/p95/p99 by kind for ramp-up and steady state, errors,
// instances by state, peak memory and the goals of the issue
// (p95 ≤ 300 ms, no errors, peak memory < 20 GiB).
//
// Run after `npm run build`:
//   node bench/load.js [--learners 900] [--seconds 90] [--ramp 40]
//                      [--think 5-20] [--idle-ttl 60] [--no-wait]
//                      [--pool N] [--pool-after M]
// --pool N: as for a published exercise whose class is about to start, each
// exercise state gets a declared warm pool of N ready instances, filled before
// the clock starts and lowered to M each (--pool-after, default 10) at the end
// of the ramp-up. The demand is written where PUT /warm-pool/:key writes it.
// Default 0 (no pools): with 180 per state (900 idle instances) this machine
// did worse, not better (see docs/adr/0012).
// Before the load (both modes), the ceiling: --ceiling-workers (8) learners
// switch between two cached states back to back for --ceiling-seconds (15; 0 skips it), each switch a new
// instance from the cached layer, on the otherwise idle platform; the new
// instances a second it makes are printed beside the ramp-up's arrivals (the
// "ramp row" at the end).
//
// Capacity mode: node bench/load.js --capacity 100,300,600,900
//                      [--window 60] [--arrive 20] [--settle 10] [--pool-after 10]
// raises the learners present in steps instead of a ramp-up. Each step: a warm
// pool of one instance per arriving learner (plus --pool-after per exercise
// state, the reserve resets take from) is declared and filled, the new
// learners arrive over --arrive s (their first runs take pooled instances),
// the demand goes back to the reserve, --settle s pass, then --window s are
// measured. Learners stay to the end (no leaving, no break past the idle TTL),
// think 5–20 s, 10 % resets, 5 % mistakes. Per step: learners, runs/s,
// p50/p95/p99 of every run started in the window, of REPL runs and of resets,
// errors by code (arrival, settle and window), the platform's CPU (all its
// Node processes, from bench/lib/platform-cpu.js, in cores and ms per run, by
// process), the machine's busy share and where it went by kind of process
// (platform Node, control plane, sandbox servers, this bench's client, the
// kernel's threads, interrupts, other), peak memory, the pool's fill time; then
// the window by 10 s slices (runs, p95, the machine's busy share, instances
// started and deleted), the largest step with p95 ≤ 300 ms and zero errors and the goal line
// "900 learners at p95 ≤ 300 ms, zero errors". A step with p95 over 3 s or
// errors over 1 % ends the climb (the steps left are "not run").
//
// The platform runs as a child process (apps/local/dist/all-in-one.js, each
// service a Node process of its own) with LOG_LEVEL=warn,
// INSTANCE_IDLE_TTL_SECONDS=--idle-ttl, WARM_POOL_MAX_INSTANCES=40 + the
// largest pool, a 16 GiB sparse btrfs image; any of these can be overridden
// from the environment. PLATFORM_NODE_ARGS adds node flags to the launcher's
// process; SERVICE_NODE_ARGS (read by the launcher) to each service's, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadExercises } from './lib/exercises.js';
import { pssOfRun, startPlatform, systemUsedBytes, waitForOtherBenchmarks } from './lib/load-platform.js';
import { eventReader } from './lib/ndjson.js';
import { cpuDelta, formatCpu, formatMachineCpu, machineCpuByKind, platformCpu } from './lib/platform-cpu.js';

const { values: args } = parseArgs({
  options: {
    learners: { type: 'string', default: '900' },
    seconds: { type: 'string', default: '90' },
    ramp: { type: 'string' },
    think: { type: 'string', default: '5-20' },
    'idle-ttl': { type: 'string', default: '60' },
    'no-wait': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    pool: { type: 'string', default: '0' },
    'pool-after': { type: 'string', default: '10' },
    capacity: { type: 'string' },
    window: { type: 'string', default: '60' },
    arrive: { type: 'string', default: '20' },
    settle: { type: 'string', default: '10' },
    'ceiling-seconds': { type: 'string', default: '15' },
    'ceiling-workers': { type: 'string', default: '8' },
  },
});
/** Capacity mode: the learner counts of its steps, ascending (see the header); undefined for the ramp. */
const STEPS = args.capacity?.split(',').map(Number);
const WINDOW = Number(args.window);
const ARRIVE = Number(args.arrive);
const SETTLE = Number(args.settle);
const CEILING_SECONDS = Number(args['ceiling-seconds']);
const CEILING_WORKERS = Number(args['ceiling-workers']);
if (
  STEPS &&
  (STEPS.length === 0 || !STEPS.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > STEPS[i - 1])))
) {
  throw new Error('--capacity takes ascending learner counts, e.g. 100,300,600,900');
}
if (![WINDOW, ARRIVE, SETTLE, CEILING_SECONDS, CEILING_WORKERS].every((n) => Number.isFinite(n) && n >= 0)) {
  throw new Error('bad --window/--arrive/--settle/--ceiling-*');
}
const LEARNERS = Number(args.learners);
const POOL_AFTER = Number(args['pool-after']);
const SECONDS = Number(args.seconds);
const RAMP = Number(args.ramp ?? Math.min(45, Math.round(SECONDS * 0.45)));
const [THINK_MIN, THINK_MAX] = args.think.split('-').map(Number);
const IDLE_TTL = Number(args['idle-ttl']);
if (![LEARNERS, SECONDS, RAMP, THINK_MIN, THINK_MAX, IDLE_TTL].every((n) => Number.isFinite(n) && n >= 0)) {
  throw new Error('bad arguments');
}
if (RAMP >= SECONDS) throw new Error('--ramp must be shorter than --seconds');

const GOAL_P95_MS = 300;
const GOAL_MEMORY_BYTES = 20 * 1024 ** 3;
const DRAIN_MS = 60_000;
// Reading smaps_rollup of ~5000 processes walks their page tables: a few % of the machine each time.
const PSS_EVERY_S = 30;
const log = (m) => process.stderr.write(`[load ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const now = () => performance.now();
/** `unref`: the timer does not keep the process alive (for deadlines raced against work). */
const sleep = (ms, unref = false) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });

// Deterministic pseudo-random numbers (mulberry32), so two runs issue the same workload.
let seed = Number(args.seed) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const between = (lo, hi) => lo + random() * (hi - lo);
const int = (lo, hi) => Math.floor(between(lo, hi + 1));

// ---------------------------------------------------------------------------
// The exercise states (bench/lib/exercises.js).

const EXERCISES = loadExercises(int);
/** Ready instances declared per exercise state before the clock (see the header). */
const POOL = Number(args.pool ?? 0);
if (!Number.isFinite(POOL) || POOL < 0 || !Number.isFinite(POOL_AFTER) || POOL_AFTER < 0) throw new Error('bad --pool');

// ---------------------------------------------------------------------------
// One run through the gateway, timed to its first `rows` and to `done`.

/** Every run issued: kind, start (ms since the load began), latencies, and what went wrong if anything. */
const samples = [];
const signIns = [];
const problems = [];
let loadStartedAt = 0;
/** How the exercise states' warm pools were set up, for the report. */
let poolFill = 'none (--pool 0)';
let inFlight = 0;

/** `code`: what the capacity table groups errors by (a problem's code, an SQLSTATE, a transport error). */
function problem(kind, message, code = 'other') {
  problems.push({ kind, at: (now() - loadStartedAt) / 1000, message: message.slice(0, 400), code });
}

/**
 * Sends one run; `intendedClass` is the SQLSTATE class the head is meant to
 * fail with (a learner's mistake), or undefined when it must succeed.
 */
async function timedRun(baseUrl, token, kind, body, intendedClass) {
  const started = now();
  const sample = { kind, at: started - loadStartedAt, ms: undefined, firstRowMs: undefined, ok: false };
  samples.push(sample);
  inFlight++;
  try {
    const response = await fetch(`${baseUrl}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('application/x-ndjson')) {
      const text = await response.text();
      sample.ms = now() - started;
      // A syntax error is found while planning the head: a 422 problem with its SQLSTATE, before any stream.
      let sqlstate;
      let code;
      try {
        ({ sqlstate, code } = JSON.parse(text));
      } catch {}
      if (intendedClass && response.status === 422 && sqlstate?.startsWith(intendedClass)) {
        sample.ok = true;
        sample.rejected = true;
        return { sessionId: body.sessionId, done: undefined };
      }
      problem(
        kind,
        `HTTP ${response.status}: ${text.slice(0, 300)}`,
        `HTTP ${response.status} ${code ?? sqlstate ?? ''}`.trim(),
      );
      return undefined;
    }
    const next = eventReader(response.body);
    let sessionId;
    let done;
    let cancelled;
    const errors = [];
    const notices = [];
    for (let event = await next(); event; event = await next()) {
      if (event.type === 'rows') sample.firstRowMs ??= now() - started;
      else if (event.type === 'started') sessionId = event.sessionId;
      else if (event.type === 'error') errors.push(event);
      else if (event.type === 'notice' && event.severity !== 'NOTICE') notices.push(event);
      else if (event.type === 'notice') notices.push(event);
      else if (event.type === 'done') done = event;
      else if (event.type === 'cancelled') cancelled = event;
    }
    sample.ms = now() - started;
    sample.done = done;
    if (cancelled) {
      problem(kind, `cancelled (${cancelled.reason})`, `cancelled ${cancelled.reason}`);
      return undefined;
    }
    if (!done) {
      problem(
        kind,
        `stream ended without done after ${errors.length} error event(s)${errors[0] ? `: ${errors[0].phase} ${errors[0].code ?? errors[0].sqlstate} ${errors[0].message}` : ''}`,
        `no done${errors[0] ? ` (${errors[0].phase} ${errors[0].code ?? errors[0].sqlstate})` : ''}`,
      );
      return undefined;
    }
    const unintended = errors.filter(
      (e) => !intendedClass || e.phase !== 'execute' || !e.sqlstate?.startsWith(intendedClass),
    );
    if (unintended.length > 0) {
      const e = unintended[0];
      problem(
        kind,
        // With where the run started and what the platform noticed, so that a lost state can be traced.
        `error event ${e.phase} ${e.sqlstate}${e.code ? ` ${e.code}` : ''}: ${e.message} (source ${done.source}, session ${String(sessionId).slice(0, 8)}${notices.length ? `, notices: ${notices.map((n) => n.message).join(' | ')}` : ''})`,
        `${e.phase} ${e.code ?? e.sqlstate}`,
      );
      return undefined;
    }
    if (intendedClass && errors.length === 0) {
      problem(kind, `the mistake did not fail (done ${JSON.stringify(done)})`, 'mistake passed');
      return undefined;
    }
    // "Your previous instance is gone": the session lost its state, which a learner would notice.
    const gone = notices.find((n) => /instance is gone/.test(n.message));
    if (gone) {
      problem(kind, `notice: ${gone.message}`, 'instance gone');
      return undefined;
    }
    sample.ok = true;
    return { sessionId, done };
  } catch (error) {
    sample.ms = now() - started;
    problem(
      kind,
      `request failed: ${error?.cause?.code ?? ''} ${error?.message ?? error}`,
      `request ${error?.cause?.code ?? 'failed'}`,
    );
    return undefined;
  } finally {
    inFlight--;
  }
}

// ---------------------------------------------------------------------------
// One learner.

let stopAt = 0;
/** settled: learners whose sign-in and first run are over (either way): a capacity step waits for its arrivals. */
const learnerStats = { started: 0, signedIn: 0, left: 0, breaks: 0, settled: 0 };

/** `stays`: a learner of a capacity step, present until the end (no early leaving, no break past the idle TTL). */
async function learner(baseUrl, index, { stays = false } = {}) {
  learnerStats.started++;
  const exercise = EXERCISES[index % EXERCISES.length];
  const signInStarted = now();
  let token;
  try {
    const r = await fetch(`${baseUrl}/api/auth/anonymous`, { method: 'POST' });
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
    token = (await r.json()).accessToken;
    signIns.push(now() - signInStarted);
    learnerStats.signedIn++;
  } catch (error) {
    problem('sign-in', `sign-in failed: ${error.message}`, 'sign-in');
    learnerStats.settled++;
    return;
  }
  const tail = { sql: exercise.tail };
  const first = await timedRun(baseUrl, token, 'first', { tail, head: exercise.first });
  learnerStats.settled++;
  if (!first) return; // nothing to continue
  const sessionId = first.sessionId;
  // Some learners leave after a few runs (their instance goes idle), some take one long break.
  const leavesAfter = !stays && random() < 0.1 ? int(1, 4) : Number.POSITIVE_INFINITY;
  const breakAfter = !stays && random() < 0.1 ? int(1, 3) : -1;
  let kindAfterThink = 'repl';
  for (let runs = 1; ; runs++) {
    if (runs > leavesAfter) {
      learnerStats.left++;
      return;
    }
    let think = between(THINK_MIN, THINK_MAX) * 1000;
    kindAfterThink = 'repl';
    if (runs === breakAfter) {
      const pause = (IDLE_TTL + between(15, 25)) * 1000;
      // Only when the learner would be back before the end: a break past it is just leaving.
      if (now() + pause < stopAt - 2000) {
        think = pause;
        kindAfterThink = 'resume';
        learnerStats.breaks++;
      }
    }
    if (now() + think >= stopAt) return;
    await sleep(think);
    // A capacity run ends at a moment no learner knew in advance.
    if (now() >= stopAt) return;
    const roll = random();
    if (kindAfterThink === 'resume') {
      await timedRun(baseUrl, token, 'resume', { sessionId, head: pick(exercise.repl)() });
    } else if (roll < 0.1) {
      await timedRun(baseUrl, token, 'reset', { sessionId, tail, head: exercise.first });
    } else if (roll < 0.15) {
      await timedRun(baseUrl, token, 'mistake', { sessionId, head: exercise.mistake }, '42');
    } else {
      await timedRun(baseUrl, token, 'repl', { sessionId, head: pick(exercise.repl)() });
    }
  }
}

// ---------------------------------------------------------------------------
// Statistics and the table.

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const fmt = (ms) => (ms === undefined ? '-' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const gib = (b) => `${(b / 1024 ** 3).toFixed(2)} GiB`;
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);

function summarize(list) {
  const done = list.filter((s) => s.ms !== undefined && s.ok).map((s) => s.ms);
  done.sort((a, b) => a - b);
  const rows = list.filter((s) => s.firstRowMs !== undefined && s.ok).map((s) => s.firstRowMs);
  rows.sort((a, b) => a - b);
  const unfinished = list.filter((s) => s.ms === undefined).length;
  return {
    runs: list.length,
    ok: done.length,
    unfinished,
    failed: list.length - done.length - unfinished,
    p50: percentile(done, 50),
    p95: percentile(done, 95),
    p99: percentile(done, 99),
    max: done.at(-1),
    rows50: percentile(rows, 50),
    rows95: percentile(rows, 95),
  };
}

const KINDS = ['first', 'repl', 'mistake', 'reset', 'resume'];

function phaseTable(title, list, seconds) {
  const lines = [];
  lines.push(`${title}: ${list.length} runs in ${seconds.toFixed(0)} s = ${(list.length / seconds).toFixed(1)} runs/s`);
  lines.push(
    `  ${pad('kind', 8)} ${padl('runs', 6)} ${padl('failed', 6)} ${padl('unfin.', 6)} ${padl('p50', 7)} ${padl('p95', 7)} ${padl('p99', 7)} ${padl('max', 7)}   ${padl('rows p50', 8)} ${padl('rows p95', 8)}  (ms, of finished ok runs; "rows" = to the first rows event; unfin. = no answer by the end of the drain)`,
  );
  for (const kind of [...KINDS, 'all']) {
    const part = kind === 'all' ? list : list.filter((s) => s.kind === kind);
    if (part.length === 0) continue;
    const s = summarize(part);
    lines.push(
      `  ${pad(kind, 8)} ${padl(s.runs, 6)} ${padl(s.failed, 6)} ${padl(s.unfinished, 6)} ${padl(fmt(s.p50), 7)} ${padl(fmt(s.p95), 7)} ${padl(fmt(s.p99), 7)} ${padl(fmt(s.max), 7)}   ${padl(fmt(s.rows50), 8)} ${padl(fmt(s.rows95), 8)}`,
    );
  }
  return lines;
}

/** The `done.source` of first runs and resets: where the state came from. */
function sources(list) {
  const counts = {};
  for (const s of list) {
    if (!s.done) continue;
    const key = `${s.kind}:${s.done.source}${s.done.stepsReplayed ? `+replay${s.done.stepsReplayed}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.entries(counts)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** p50/p95 of the server-side timings (from `done`) of a kind. */
function serverTimings(list) {
  const out = [];
  for (const key of ['planMs', 'restoreMs', 'replayMs', 'executeMs', 'totalMs']) {
    const v = list
      .filter((s) => s.done)
      .map((s) => s.done.timings[key])
      .sort((a, b) => a - b);
    out.push(`${key.replace('Ms', '')} ${fmt(percentile(v, 50))}/${fmt(percentile(v, 95))}`);
  }
  return out.join('  ');
}

// ---------------------------------------------------------------------------
// The ceiling: new instances a second this machine makes.

/**
 * CEILING_WORKERS learners each sign in, make a first run, then switch back
 * to back (no think) for CEILING_SECONDS between the states of two exercises,
 * both cached. Every switch is a new instance cloned from the other state's
 * layer (no warm pool is declared yet; a reset to the same state would be
 * served from the instance's template database, ADR 0029, and make none), so
 * the instances entering Running a second are what the machine makes with
 * nothing else to do: the ceiling beside which the ramp-up's arrivals are read.
 */
async function measureCeiling(platform) {
  if (CEILING_SECONDS === 0 || CEILING_WORKERS === 0) return undefined;
  loadStartedAt = now();
  const sessions = await Promise.all(
    Array.from({ length: CEILING_WORKERS }, async (_, i) => {
      const exercise = EXERCISES[i % EXERCISES.length];
      const signIn = await fetch(`${platform.url}/api/auth/anonymous`, { method: 'POST' });
      const { accessToken } = await signIn.json();
      const other = EXERCISES[(i + 1) % EXERCISES.length];
      const tails = [{ sql: other.tail }, { sql: exercise.tail }];
      const first = await timedRun(platform.url, accessToken, 'ceiling', { tail: tails[1], head: 'SELECT 1' });
      return first && { accessToken, tails, head: 'SELECT 1', sessionId: first.sessionId };
    }),
  );
  const dbStart = (await platform.admin.query('SELECT now() AS t')).rows[0].t;
  const started = now();
  const endAt = started + CEILING_SECONDS * 1000;
  let resets = 0;
  await Promise.all(
    sessions.filter(Boolean).map(async ({ accessToken, tails, head, sessionId }) => {
      for (let n = 0; now() < endAt; n++) {
        const tail = tails[n % 2];
        if (await timedRun(platform.url, accessToken, 'ceiling', { sessionId, tail, head })) resets++;
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  const dbEnd = (await platform.admin.query('SELECT now() AS t')).rows[0].t;
  const { rows } = await platform.admin.query(
    `SELECT count(*)::int AS n FROM env_manager.instance_transitions
      WHERE to_state = 'Running' AND at >= $1 AND at < $2`,
    [dbStart, dbEnd],
  );
  const result = {
    perSecond: rows[0].n / seconds,
    resetsPerSecond: resets / seconds,
    seconds,
    errors: problems.length,
    text: '',
  };
  result.text = `${result.perSecond.toFixed(1)} new instances/s (${CEILING_WORKERS} learners switching between two cached states back to back for ${seconds.toFixed(0)} s on the otherwise idle platform, before the load: ${result.resetsPerSecond.toFixed(1)} switches/s, ${result.errors} errors)`;
  samples.length = 0;
  problems.length = 0;
  return result;
}

// ---------------------------------------------------------------------------
// Capacity mode.

/** Busy and total clock ticks of the whole machine so far, from /proc/stat. */
async function machineCpu() {
  const ticks = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

const SLICE_S = 10;

/**
 * Sleeps through the window in slices of SLICE_S s and records, for each, the
 * machine's busy share and the instances the platform started and deleted in
 * it, so a p95 that a few seconds spoil can be told from one spread over the
 * window (the runs of each slice are taken from the samples afterwards).
 */
async function windowSlices(platform, windowStart) {
  const slices = [];
  const transitions = async () =>
    (
      await platform.admin.query(
        `SELECT count(*) FILTER (WHERE to_state = 'Running')::int AS started,
                count(*) FILTER (WHERE to_state = 'Deleted')::int AS deleted
           FROM env_manager.instance_transitions`,
      )
    ).rows[0];
  let cpu = await machineCpu();
  let counts = await transitions();
  for (let at = 0; at < WINDOW; at += SLICE_S) {
    const seconds = Math.min(SLICE_S, WINDOW - at);
    const from = windowStart + at * 1000;
    const wait = from + seconds * 1000 - (now() - loadStartedAt);
    if (wait > 0) await sleep(wait);
    const [cpuAfter, countsAfter] = [await machineCpu(), await transitions()];
    slices.push({
      from,
      to: from + seconds * 1000,
      busy: (cpuAfter.busy - cpu.busy) / Math.max(1, cpuAfter.total - cpu.total),
      started: countsAfter.started - counts.started,
      deleted: countsAfter.deleted - counts.deleted,
    });
    [cpu, counts] = [cpuAfter, countsAfter];
  }
  return slices;
}

/** One line per step: each slice of its window with its runs, their p95, the machine's busy share and instance churn. */
function sliceLine(step) {
  return step.slices
    .map((slice, i) => {
      const runs = summarize(samples.filter((s) => s.at >= slice.from && s.at < slice.to));
      return `${i * SLICE_S}s: ${runs.runs} runs p95 ${fmt(runs.p95)} ms, ${(slice.busy * 100).toFixed(0)} % busy, +${slice.started}/-${slice.deleted} instances`;
    })
    .join('; ');
}

/** Per-step warm-pool demand: one ready instance per arriving learner, plus the reserve the resets take from. */
const stepPoolPerKey = (added) => Math.ceil(added / EXERCISES.length) + POOL_AFTER;

/**
 * Raises the learners present step by step. Each step: its arrivals' warm
 * pool is declared and filled, the new learners arrive over ARRIVE s (their
 * first runs take pooled instances), the demand goes back to the reset
 * reserve, SETTLE s pass, then the WINDOW s measured (runs started in it,
 * platform and machine CPU, memory). A step far past the goal ends the climb.
 */
async function capacitySteps(platform, declarePools, poolReady) {
  const steps = [];
  const learners = [];
  const cpuOptions = { controlPlaneDataDir: join(platform.root, 'control-plane', 'data') };
  let present = 0;
  stopAt = Number.POSITIVE_INFINITY;
  for (const target of STEPS) {
    const added = target - present;
    const step = { learners: target, added, startMs: now() - loadStartedAt };
    steps.push(step);
    memory.stepPeak = 0;
    const wanted = stepPoolPerKey(added) * EXERCISES.length;
    const fillStarted = now();
    await declarePools(stepPoolPerKey(added));
    step.poolReady = await poolReady(wanted, 10 * 60_000);
    step.poolWanted = wanted;
    step.fillS = (now() - fillStarted) / 1000;
    log(
      `step ${target}: warm pool ${step.poolReady}/${wanted} ready in ${fmt(step.fillS)} s; ${added} learners arrive over ${ARRIVE} s`,
    );
    const arriveAt = now();
    const settledBefore = learnerStats.settled;
    for (let i = 0; i < added; i++) {
      const wait = arriveAt + (i * ARRIVE * 1000) / added - now();
      if (wait > 0) await sleep(wait);
      learners.push(learner(platform.url, present + i, { stays: true }));
    }
    const arrivalDeadline = now() + 5 * 60_000;
    while (learnerStats.settled - settledBefore < added && now() < arrivalDeadline) await sleep(200);
    step.arrivedS = (now() - arriveAt) / 1000;
    present = target;
    await declarePools(POOL_AFTER);
    await sleep(SETTLE * 1000);
    const cpuBefore = await platformCpu(platform.pid, cpuOptions);
    const machineBefore = await machineCpu();
    const kindsBefore = await machineCpuByKind(platform.pid, cpuOptions);
    step.windowStart = now() - loadStartedAt;
    step.slices = await windowSlices(platform, step.windowStart);
    step.windowEnd = now() - loadStartedAt;
    step.cpu = cpuDelta(cpuBefore, await platformCpu(platform.pid, cpuOptions));
    const machineAfter = await machineCpu();
    step.kinds = [kindsBefore, await machineCpuByKind(platform.pid, cpuOptions)];
    step.machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
    step.systemPeak = memory.stepPeak;
    const sofar = summarize(samples.filter((s) => s.at >= step.windowStart && s.at < step.windowEnd));
    const errors = problems.filter((p) => p.at * 1000 >= step.startMs).length;
    log(
      `step ${target}: window ${sofar.runs} runs (${(sofar.runs / WINDOW).toFixed(1)}/s), p95 so far ${fmt(sofar.p95)} ms, ${errors} errors, platform Node CPU ${(step.cpu.nodeMs / step.cpu.wallMs).toFixed(2)} cores, machine ${(step.machineBusy * 100).toFixed(0)} % busy`,
    );
    if ((sofar.p95 ?? Number.POSITIVE_INFINITY) > 10 * GOAL_P95_MS || errors > 0.01 * Math.max(100, sofar.runs)) {
      step.endedClimb = true;
      break;
    }
  }
  stopAt = now();
  const drained = await Promise.race([
    Promise.all(learners).then(() => true),
    sleep(THINK_MAX * 1000 + DRAIN_MS, true).then(() => false),
  ]);
  if (!drained) problem('drain', `${inFlight} run(s) still in flight ${DRAIN_MS / 1000} s after the end`, 'drain');
  return steps;
}

/** The capacity table, one row per step, from the samples once every run is over. */
function capacityReport(steps) {
  const lines = [];
  const fmts = (s) => `${padl(fmt(s.p50), 6)} ${padl(fmt(s.p95), 6)} ${padl(fmt(s.p99), 6)}`;
  lines.push(
    `capacity: learners present in steps; each step's arrivals come over ${ARRIVE} s with first runs from a warm pool filled before the step (reserve ${POOL_AFTER} per exercise state for resets), ${SETTLE} s settle, then a ${WINDOW} s window; think ${THINK_MIN}–${THINK_MAX} s, 10 % resets, 5 % mistakes; latencies in ms of runs started in the window`,
  );
  lines.push(
    `  ${padl('learners', 8)} ${padl('runs/s', 6)} | ${padl('all p50', 6)} ${padl('p95', 6)} ${padl('p99', 6)} | ${padl('repl p50', 6)} ${padl('p95', 6)} ${padl('p99', 6)} | ${padl('reset p50', 6)} ${padl('p95', 6)} ${padl('p99', 6)} | ${padl('errors', 6)} | ${padl('platform CPU', 12)} ${padl('ms/run', 6)} | ${padl('machine', 7)} | ${padl('mem peak', 9)} | ${padl('pool fill', 9)} | verdict`,
  );
  let largest;
  for (const step of steps) {
    const inWindow = samples.filter((s) => s.at >= step.windowStart && s.at < step.windowEnd);
    const all = summarize(inWindow);
    const repl = summarize(inWindow.filter((s) => s.kind === 'repl'));
    const reset = summarize(inWindow.filter((s) => s.kind === 'reset'));
    const stepProblems = problems.filter((p) => p.at * 1000 >= step.startMs && p.at * 1000 < step.windowEnd);
    const runsPerS = inWindow.length / ((step.windowEnd - step.windowStart) / 1000);
    const cores = step.cpu.nodeMs / step.cpu.wallMs;
    const pss = memory.pssSamples.filter((p) => p.at >= step.startMs && p.at <= step.windowEnd);
    const memPeak = Math.max(step.systemPeak, ...pss.map((p) => p.bytes));
    const pass = all.p95 !== undefined && all.p95 <= GOAL_P95_MS && stepProblems.length === 0 && all.unfinished === 0;
    if (pass) largest = step.learners;
    lines.push(
      `  ${padl(step.learners, 8)} ${padl(runsPerS.toFixed(1), 6)} | ${fmts(all)} | ${fmts(repl)} | ${fmts(reset)} | ${padl(stepProblems.length, 6)} | ${padl(`${cores.toFixed(2)} cores`, 12)} ${padl(fmt(step.cpu.nodeMs / Math.max(1, inWindow.length)), 6)} | ${padl(`${(step.machineBusy * 100).toFixed(0)} %`, 7)} | ${padl(gib(memPeak), 9)} | ${padl(`${step.fillS.toFixed(0)} s`, 9)} | ${pass ? 'PASS' : 'FAIL'}`,
    );
    const codes = {};
    for (const p of stepProblems) codes[p.code] = (codes[p.code] ?? 0) + 1;
    const inWindowErrors = stepProblems.filter((p) => p.at * 1000 >= step.windowStart).length;
    lines.push(
      `           platform CPU ms/run by process: ${formatCpu(step.cpu, Math.max(1, inWindow.length))}; control-plane PostgreSQL ${(step.cpu.controlPlaneMs / step.cpu.wallMs).toFixed(2)} cores${step.cpu.sameProcesses ? '' : ' (a platform process exited or appeared in the window)'}`,
    );
    lines.push(`           the window by ${SLICE_S} s: ${sliceLine(step)}`);
    lines.push(
      `           machine CPU ms/run by kind: ${formatMachineCpu(step.kinds[0], step.kinds[1], Math.max(1, inWindow.length))}`,
    );
    lines.push(
      `           errors by code (${stepProblems.length - inWindowErrors} before the window: pool fill, arrivals, settle; ${inWindowErrors} in it): ${
        Object.entries(codes)
          .sort((a, b) => b[1] - a[1])
          .map(([c, n]) => `${c} ${n}`)
          .join(', ') || 'none'
      }; unfinished ${all.unfinished}; arrivals settled in ${step.arrivedS.toFixed(0)} s; pool ${step.poolReady}/${step.poolWanted} ready${step.endedClimb ? '; far past the goal: the climb ends here' : ''}`,
    );
  }
  for (const target of STEPS.filter((n) => !steps.some((s) => s.learners === n))) {
    lines.push(`  ${padl(target, 8)} not run`);
  }
  lines.push(`largest step with p95 ≤ ${GOAL_P95_MS} ms and zero errors: ${largest ?? 'none'}`);
  lines.push(
    `goal 900 learners at p95 ≤ ${GOAL_P95_MS} ms, zero errors: ${largest !== undefined && largest >= 900 ? 'PASS' : 'FAIL'}`,
  );
  return lines;
}

// ---------------------------------------------------------------------------
// Main.

const benchStarted = now();
if (!args['no-wait']) {
  const free = await waitForOtherBenchmarks(30 * 60_000, log);
  if (!free) log('WARNING: another benchmark is still running; results are distorted');
}

const memory = {
  baseline: await systemUsedBytes(),
  systemPeak: 0,
  pssPeak: 0,
  pssProcesses: 0,
  pssPeakAt: 0,
  /** Capacity mode: the machine's peak since the current step began, and every PSS sample (ms since the load's start). */
  stepPeak: 0,
  pssSamples: [],
};
/** Most pooled instances at once: a capacity step's arrivals plus the reserve, or the ramp's --pool. */
const poolMax = STEPS
  ? Math.max(...STEPS.map((n, i) => stepPoolPerKey(n - (STEPS[i - 1] ?? 0)))) * EXERCISES.length
  : POOL * EXERCISES.length;
const platformEnv = {
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  INSTANCE_IDLE_TTL_SECONDS: process.env.INSTANCE_IDLE_TTL_SECONDS ?? String(IDLE_TTL),
  WARM_POOL_MAX_INSTANCES: process.env.WARM_POOL_MAX_INSTANCES ?? String(40 + poolMax),
  SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES ?? String(16 * 1024 ** 3),
  // Every learner signs in from this one address: the per-address limit of public routes must not throttle the ramp.
  RATE_LIMIT_IP_MAX: process.env.RATE_LIMIT_IP_MAX ?? '1000000',
  RATE_LIMIT_ACCOUNT_MAX: process.env.RATE_LIMIT_ACCOUNT_MAX ?? '100000',
  // Nor may the per-address connection cap (ADR 0022): a thousand learners' connections all come from here.
  MAX_CONNECTIONS_PER_ADDRESS: process.env.MAX_CONNECTIONS_PER_ADDRESS ?? '0',
  // The simulated learners do not refresh their tokens: a capacity run outlasts idp's default 15 min, after
  // which every run of the first learners was a 401 (a real client's refresh is ~1 a second for 900 learners).
  ACCESS_TOKEN_TTL_SECONDS: process.env.ACCESS_TOKEN_TTL_SECONDS ?? '7200',
};
log(`starting the platform (${JSON.stringify(platformEnv)})`);
const platformStartedAt = now();
const platform = await startPlatform({ env: platformEnv, log });
const platformStartMs = now() - platformStartedAt;

let samplerStop = false;
const instanceSamples = [];
const samplers = [];
const report = [];
let teardown;
/** New instances a second the idle machine makes (measureCeiling), for the ramp row and the capacity header. */
let ceiling;
try {
  // Memory: system-wide every second (cheap); PSS of every process of the run every PSS_EVERY_S.
  samplers.push(
    (async () => {
      while (!samplerStop) {
        const used = (await systemUsedBytes()) - memory.baseline;
        memory.systemPeak = Math.max(memory.systemPeak, used);
        memory.stepPeak = Math.max(memory.stepPeak, used);
        await sleep(1000);
      }
    })(),
  );
  samplers.push(
    (async () => {
      while (!samplerStop) {
        const { bytes, processes } = await pssOfRun(platform.root, [platform.pid, process.pid]);
        if (loadStartedAt) memory.pssSamples.push({ at: now() - loadStartedAt, bytes });
        if (bytes > memory.pssPeak) {
          memory.pssPeak = bytes;
          memory.pssProcesses = processes;
          memory.pssPeakAt = loadStartedAt ? (now() - loadStartedAt) / 1000 : 0;
        }
        for (let i = 0; i < PSS_EVERY_S && !samplerStop; i++) await sleep(1000);
      }
    })(),
  );

  // The exercise states are built once before the clock starts (a learner's
  // first run then restores them from the cache, as for a popular exercise).
  const warmToken = await (await fetch(`${platform.url}/api/auth/anonymous`, { method: 'POST' })).json();
  const builds = [];
  loadStartedAt = now();
  for (const exercise of EXERCISES) {
    const r = await timedRun(platform.url, warmToken.accessToken, 'build', {
      tail: { sql: exercise.tail },
      head: exercise.first,
    });
    if (!r) throw new Error(`building ${exercise.name} failed: ${JSON.stringify(problems.at(-1))}`);
    builds.push(`${exercise.name} ${fmt(samples.at(-1).ms)} ms (${r.done.source}, ${r.done.stepsReplayed} steps)`);
  }
  samples.length = 0;
  problems.length = 0;
  log(`exercise states built: ${builds.join(', ')}`);

  // Warm pools of the exercise states, declared and filled before the clock starts.
  const exerciseKeys = [];
  for (const exercise of EXERCISES) {
    const planned = await fetch(`${platform.url}/api/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${warmToken.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: exercise.tail }),
    }).then((r) => r.json());
    exerciseKeys.push(planned.finalKey);
  }
  const declarePools = (size) =>
    platform.admin.query(
      `INSERT INTO env_manager.warm_pool_demand (key, size) SELECT unnest($1::text[]), $2
       ON CONFLICT (key) DO UPDATE SET size = excluded.size, updated_at = now()`,
      [exerciseKeys, size],
    );
  /** Waits until `wanted` pooled instances of the exercise states are Running, at most `timeoutMs`; how many are. */
  const poolReady = async (wanted, timeoutMs) => {
    const started = now();
    for (;;) {
      const { rows } = await platform.admin.query(
        `SELECT count(*) FILTER (WHERE state = 'Running')::int AS ready FROM env_manager.instances
          WHERE pooled AND pool_key = ANY($1::text[])`,
        [exerciseKeys],
      );
      if (rows[0].ready >= wanted || now() - started > timeoutMs) return rows[0].ready;
      await sleep(1000);
    }
  };

  // Before any pool: the rate at which this machine makes new instances.
  ceiling = await measureCeiling(platform);
  if (ceiling) log(`ceiling: ${ceiling.text}`);

  if (STEPS) {
    const dbNow = (await platform.admin.query('SELECT now() AS t')).rows[0].t;
    loadStartedAt = now();
    log(`capacity steps ${STEPS.join(', ')}: window ${WINDOW} s, arrivals over ${ARRIVE} s, settle ${SETTLE} s`);
    const steps = await capacitySteps(platform, declarePools, poolReady);
    const line = '-'.repeat(100);
    report.push(line);
    report.push(
      `bench/load --capacity ${STEPS.join(',')}: ${EXERCISES.length} exercise states, machine ${(await import('node:os')).cpus().length} cores, ${gib((await import('node:os')).totalmem())}; platform start ${(platformStartMs / 1000).toFixed(1)} s; exercise builds: ${builds.join(', ')}`,
    );
    report.push(`ceiling: ${ceiling?.text ?? 'not measured (--ceiling-seconds 0)'}`);
    report.push(line);
    report.push(...capacityReport(steps));
    report.push(line);
    report.push(`state sources: ${sources(samples)}`);
    for (const kind of KINDS) {
      const part = samples.filter((s) => s.kind === kind && s.done);
      if (part.length) report.push(`server timings p50/p95 ms, ${pad(kind, 7)}: ${serverTimings(part)}`);
    }
    report.push(`errors over the whole run: ${problems.length}`);
    for (const p of problems.slice(0, 5)) report.push(`  t=${p.at.toFixed(1)} s ${p.kind}: ${p.message.slice(0, 200)}`);
    const transitions = await platform.transitions(dbNow);
    report.push(
      `transitions: ${transitions
        .slice(0, 10)
        .map((t) => `${t.edge} (${t.reason}) ${t.n}`)
        .join('; ')}`,
    );
    report.push(
      `peak memory over the run: PSS of every process ${gib(memory.pssPeak)} (${memory.pssProcesses} processes, sampled every ${PSS_EVERY_S} s); MemTotal−MemAvailable above the baseline ${gib(memory.systemPeak)} (every 1 s, baseline ${gib(memory.baseline)})`,
    );
  }
  if (POOL > 0 && !STEPS) {
    const fillStarted = now();
    await declarePools(POOL);
    const ready = await poolReady(POOL * exerciseKeys.length, 15 * 60_000);
    if (ready < POOL * exerciseKeys.length) throw new Error(`warm pools did not fill: ${ready} ready`);
    poolFill = `${POOL} per exercise state (${POOL * exerciseKeys.length} instances) filled in ${fmt((now() - fillStarted) / 1000)} s before the clock, lowered to ${POOL_AFTER} each at the end of the ramp-up`;
    log(`warm pools: ${poolFill}`);
  }

  // The ramp-up's load.
  if (!STEPS) {
    const dbNow = (await platform.admin.query('SELECT now() AS t')).rows[0].t;
    loadStartedAt = now();
    stopAt = loadStartedAt + SECONDS * 1000;
    const rampMs = RAMP * 1000;
    log(`${LEARNERS} learners over a ${RAMP} s ramp-up, issuing for ${SECONDS} s, think ${THINK_MIN}–${THINK_MAX} s`);
    samplers.push(
      (async () => {
        while (!samplerStop) {
          try {
            const rows = await platform.admin.query(
              `SELECT state, count(*)::int AS n FROM env_manager.instances WHERE state NOT IN ('Deleted') GROUP BY state`,
            );
            const counts = Object.fromEntries(rows.rows.map((r) => [r.state, r.n]));
            instanceSamples.push({ at: (now() - loadStartedAt) / 1000, counts, inFlight });
          } catch {}
          await sleep(5000);
        }
      })(),
    );
    const progress = setInterval(() => {
      const last = instanceSamples.at(-1);
      const t = (now() - loadStartedAt) / 1000;
      const recent = samples.filter((s) => s.at >= (t - 10) * 1000 && s.ms !== undefined);
      const sorted = recent.map((s) => s.ms).sort((a, b) => a - b);
      log(
        `t=${t.toFixed(0)}s learners ${learnerStats.signedIn}/${LEARNERS} runs ${samples.length} in-flight ${inFlight} errors ${problems.length} last10s p95 ${fmt(percentile(sorted, 95))} ms instances ${JSON.stringify(last?.counts ?? {})} mem +${gib(memory.systemPeak)}`,
      );
    }, 10_000);
    const learners = [];
    for (let i = 0; i < LEARNERS; i++) {
      const at = loadStartedAt + (LEARNERS > 1 ? (i * rampMs) / LEARNERS : 0);
      const wait = at - now();
      if (wait > 0) await sleep(wait);
      learners.push(learner(platform.url, i));
    }
    // The class has arrived: the pools keep only what resets and late arrivals need.
    if (POOL > 0) await declarePools(POOL_AFTER);
    // Drain: no run starts after stopAt; wait for the ones in flight.
    const drained = await Promise.race([
      Promise.all(learners).then(() => true),
      sleep(Math.max(0, stopAt - now()) + DRAIN_MS, true).then(() => false),
    ]);
    clearInterval(progress);
    const issuedMs = Math.min(now(), stopAt) - loadStartedAt;
    const endedAt = now();
    if (!drained) problem('drain', `${inFlight} run(s) still in flight ${DRAIN_MS / 1000} s after the end`, 'drain');

    const byState = await platform.instancesByState();
    const starts = await platform.startsPerSecond(dbNow);
    const transitions = await platform.transitions(dbNow);

    // -------------------------------------------------------------------------
    const ramp = samples.filter((s) => s.at < rampMs);
    const steady = samples.filter((s) => s.at >= rampMs);
    const line = '-'.repeat(100);
    report.push(line);
    report.push(
      `bench/load: ${LEARNERS} learners, ${EXERCISES.length} exercise states, ramp-up ${RAMP} s, issuing ${(issuedMs / 1000).toFixed(0)} s (drained in ${(Math.max(0, endedAt - stopAt) / 1000).toFixed(1)} s), think ${THINK_MIN}–${THINK_MAX} s, idle TTL ${platformEnv.INSTANCE_IDLE_TTL_SECONDS} s`,
    );
    report.push(
      `machine: ${(await import('node:os')).cpus().length} cores, ${gib((await import('node:os')).totalmem())}; platform start ${(platformStartMs / 1000).toFixed(1)} s; exercise builds: ${builds.join(', ')}`,
      `warm pools of the exercise states: ${poolFill}`,
    );
    report.push(
      `learners: ${learnerStats.signedIn} signed in (sign-in p50 ${fmt(
        percentile(
          [...signIns].sort((a, b) => a - b),
          50,
        ),
      )} ms, p95 ${fmt(
        percentile(
          [...signIns].sort((a, b) => a - b),
          95,
        ),
      )} ms), ${learnerStats.left} left early, ${learnerStats.breaks} took a break > idle TTL`,
    );
    report.push(line);
    report.push(...phaseTable(`ramp-up [0, ${RAMP}) s`, ramp, RAMP));
    report.push(...phaseTable(`steady state [${RAMP}, ${SECONDS}) s`, steady, SECONDS - RAMP));
    report.push(...phaseTable('whole run', samples, SECONDS));
    report.push(`state sources: ${sources(samples)}`);
    for (const kind of KINDS) {
      const part = samples.filter((s) => s.kind === kind && s.done);
      if (part.length) report.push(`server timings p50/p95 ms, ${pad(kind, 7)}: ${serverTimings(part)}`);
    }
    report.push(line);
    report.push(`errors: ${problems.length}`);
    const byMessage = new Map();
    for (const p of problems) {
      const key = `${p.kind}: ${p.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').slice(0, 200)}`;
      const e = byMessage.get(key) ?? { n: 0, first: p.at };
      e.n++;
      byMessage.set(key, e);
    }
    for (const [message, { n, first }] of [...byMessage].sort((a, b) => b[1].n - a[1].n).slice(0, 8)) {
      report.push(`  ${n}× (first at t=${first.toFixed(1)} s) ${message}`);
    }
    report.push(
      `instances at the end: ${byState.map((r) => `${r.state}${r.pooled ? ' (pool)' : ''} ${r.n}`).join(', ') || 'none'}`,
    );
    const peakLive = instanceSamples.reduce(
      (m, s) => Math.max(m, (s.counts.Running ?? 0) + (s.counts.Suspended ?? 0)),
      0,
    );
    const peakRunning = instanceSamples.reduce((m, s) => Math.max(m, s.counts.Running ?? 0), 0);
    report.push(`instances peak: Running ${peakRunning}, Running+Suspended ${peakLive}`);
    const startSeries = starts.map((r) => r.n);
    report.push(
      `instances entering Running per second (from the load's start): peak ${Math.max(0, ...startSeries)}/s, mean over the ramp-up ${(starts.filter((r) => r.s < RAMP).reduce((a, r) => a + r.n, 0) / RAMP).toFixed(1)}/s`,
    );
    report.push(
      `transitions: ${transitions
        .slice(0, 10)
        .map((t) => `${t.edge} (${t.reason}) ${t.n}`)
        .join('; ')}`,
    );
    report.push(
      `peak memory: PSS of every process of the run ${gib(memory.pssPeak)} (${memory.pssProcesses} processes, at t=${memory.pssPeakAt.toFixed(0)} s, sampled every ${PSS_EVERY_S} s); machine MemTotal−MemAvailable above the baseline ${gib(memory.systemPeak)} (sampled every 1 s, baseline ${gib(memory.baseline)})`,
    );
    const steadyAll = summarize(steady);
    const wholeAll = summarize(samples);
    const peakMemory = Math.max(memory.pssPeak, memory.systemPeak);
    report.push(line);
    report.push(
      `goal p95 ≤ ${GOAL_P95_MS} ms, steady state: ${steadyAll.p95 !== undefined && steadyAll.p95 <= GOAL_P95_MS ? 'PASS' : 'FAIL'} (${fmt(steadyAll.p95)} ms)`,
    );
    report.push(
      `goal p95 ≤ ${GOAL_P95_MS} ms, whole run incl. ramp-up: ${wholeAll.p95 !== undefined && wholeAll.p95 <= GOAL_P95_MS ? 'PASS' : 'FAIL'} (${fmt(wholeAll.p95)} ms)`,
    );
    report.push(`goal no errors: ${problems.length === 0 ? 'PASS' : `FAIL (${problems.length})`}`);
    report.push(
      `goal peak memory < 20 GiB: ${peakMemory < GOAL_MEMORY_BYTES ? 'PASS' : 'FAIL'} (${gib(peakMemory)}, the larger of the two measures)`,
    );
    const arrivals = LEARNERS / Math.max(1, RAMP);
    report.push(
      `ramp row: ${LEARNERS} learners over ${RAMP} s = ${arrivals.toFixed(1)} arrivals/s, each a new instance unless pooled; new instances entering Running ${(starts.filter((r) => r.s < RAMP).reduce((a, r) => a + r.n, 0) / Math.max(1, RAMP)).toFixed(1)}/s over the ramp-up (peak ${Math.max(0, ...startSeries)}/s); steady p95 ${fmt(steadyAll.p95)} ms, whole-run p95 ${fmt(wholeAll.p95)} ms, ${problems.length} errors | ceiling: ${ceiling?.text ?? 'not measured (--ceiling-seconds 0)'}`,
    );
  }
} finally {
  samplerStop = true;
  await Promise.all(samplers).catch(() => {});
  log('stopping the platform (SIGTERM)');
  teardown = await platform.stop();
  if (teardown.left.mounts.length === 0 && teardown.left.processes.length === 0) await platform.removeRoot();
}
const exitOk = teardown.exit.code === 0 && !teardown.exit.timedOut;
report.push(
  `teardown: platform exit ${teardown.exit.code ?? teardown.exit.signal}${teardown.exit.timedOut ? ' (timed out, killed)' : ''} after ${(teardown.platformStopMs / 1000).toFixed(1)} s; left behind: ${teardown.left.processes.length} postgres process(es), ${teardown.left.mounts.length} mount(s)${teardown.left.mounts.length || teardown.left.processes.length ? ` under ${platform.root}` : ''}`,
);
for (const p of teardown.left.processes.slice(0, 3)) report.push(`  left: ${p}`);
for (const m of teardown.left.mounts.slice(0, 3)) report.push(`  left: ${m}`);
const tail = platform
  .output()
  .split('\n')
  .filter((l) => /"level":(40|50|60)/.test(l));
if (tail.length) {
  report.push(`platform warnings/errors logged: ${tail.length}; first ones:`);
  for (const l of tail.slice(0, 5)) report.push(`  ${l.slice(0, 300)}`);
}
report.push(`total bench time ${((now() - benchStarted) / 1000).toFixed(0)} s`);
process.stdout.write(`${report.join('\n')}\n`);
process.exitCode = exitOk && teardown.left.processes.length === 0 && teardown.left.mounts.length === 0 ? 0 : 1;
