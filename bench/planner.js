// The planner at a class's arrival: what one tail of bench/load costs inside a planner worker (split and
// parse, canonical text, keys), against the time a plan spends queued when a class arrives, with the cache
// of plans off (PLAN_CACHE_ENTRIES=0, one job per learner) and on (one job per text).
//
// Run after `npm run build`, under the bench lock:
//   flock /tmp/taidon-bench.lock node bench/planner.js [--learners 600] [--arrive 20] [--rounds 200]
// --learners arrive evenly over --arrive s (0: all at once, the worst burst), each a first run as sql-runner
// plans it: its exercise's tail, then its head keyed on the tail's final key. The pool is sql-runner's,
// built by the same createPlanner/cachePlans with the documented PLAN_* defaults (overridable from the
// environment), on this process's event loop, which does nothing else: the queue time printed is the pool's
// own, without the service's loop lag.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { canonicalize, loadParser, planChain } from '../services/sql-runner/dist/domain/chain/index.js';
import { nextKey } from '../services/sql-runner/dist/domain/chain/keys.js';
import { cachePlans, createPlanner, plannerConfig } from '../services/sql-runner/dist/planner/index.js';
import { loadExercises } from './lib/exercises.js';

const { values: args } = parseArgs({
  options: {
    learners: { type: 'string', default: '600' },
    arrive: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '200' },
  },
});
const LEARNERS = Number(args.learners);
const ARRIVE_S = Number(args.arrive);
const ROUNDS = Number(args.rounds);
if (![LEARNERS, ARRIVE_S, ROUNDS].every((n) => Number.isFinite(n) && n >= 0) || ROUNDS < 1) throw new Error('bad args');

const EXERCISES = loadExercises((lo) => lo);
const OPTIONS = { engineVersion: '18.4' };
const HEAD_PATH = 'head.sql';
const TAIL_PATH = 'query.sql';
const logger = pino({ level: 'silent' });

const pct = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (n) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 0) : '-');
const pad = (cells, widths) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');

/** Median of `rounds` timings of `work`, after a few to warm up. */
function median(work, rounds) {
  for (let i = 0; i < 5; i++) work();
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return pct(times, 50);
}

/** One tail's plan in parts, as a worker runs it (this thread has loaded the parser as a worker does). */
async function costOfTail(exercise) {
  const files = [{ path: TAIL_PATH, sql: exercise.tail }];
  const chain = await planChain(files, OPTIONS);
  const totals = [];
  for (let i = 0; i < ROUNDS + 5; i++) {
    const started = performance.now();
    await planChain(files, OPTIONS);
    if (i >= 5) totals.push(performance.now() - started);
  }
  const statements = chain.steps.map((s) => s.sql);
  const canonicalMs = median(() => statements.map((sql) => canonicalize(sql)), ROUNDS);
  const canonical = statements.map((sql) => canonicalize(sql));
  const keysMs = median(() => canonical.reduce((key, text) => nextKey(key, text), chain.baseKey), ROUNDS);
  const totalMs = pct(totals, 50);
  return {
    name: exercise.name,
    steps: chain.steps.length,
    chars: exercise.tail.length,
    totalMs,
    splitParseMs: Math.max(0, totalMs - canonicalMs - keysMs),
    canonicalMs,
    keysMs,
  };
}

/** A class arriving: each learner plans its tail, then its head keyed on the tail, as POST /runs does. */
async function arrival(cacheEntries) {
  const config = { ...plannerConfig({}), ...fromEnvironment(), PLAN_CACHE_ENTRIES: cacheEntries };
  const jobs = new Counter({ name: 'jobs', help: 'jobs', labelNames: ['outcome'], registers: [new Registry()] });
  const pool = createPlanner(config, logger, jobs);
  const planner = cachePlans(pool, config);
  // The workers start with the first plan (~0.3 s each): not part of an arrival.
  await pool.plan([{ path: TAIL_PATH, sql: 'SELECT 1;' }], OPTIONS);
  await new Promise((r) => setTimeout(r, 500));
  jobs.reset();
  const tails = [];
  const heads = [];
  const refused = new Map();
  const learner = async (i) => {
    const exercise = EXERCISES[i % EXERCISES.length];
    const account = `learner-${i}`;
    try {
      let started = performance.now();
      const tail = await planner.plan([{ path: TAIL_PATH, sql: exercise.tail }], OPTIONS, account);
      tails.push(performance.now() - started);
      started = performance.now();
      await planner.plan(
        [{ path: HEAD_PATH, sql: exercise.first }],
        { ...OPTIONS, startKey: tail.finalKey, keepCanonical: true },
        account,
      );
      heads.push(performance.now() - started);
    } catch (error) {
      const code = error.code ?? error.message;
      refused.set(code, (refused.get(code) ?? 0) + 1);
    }
  };
  const began = performance.now();
  const runs = [];
  for (let i = 0; i < LEARNERS; i++) {
    const at = LEARNERS <= 1 ? 0 : (ARRIVE_S * 1000 * i) / LEARNERS;
    const wait = began + at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    runs.push(learner(i));
  }
  await Promise.all(runs);
  const queued = (await jobs.get()).values.find((v) => v.labels.outcome === 'queued')?.value ?? 0;
  await pool.close();
  return { tails, heads, refused, queued };
}

/** PLAN_* knobs given in the environment, as sql-runner would read them. */
function fromEnvironment() {
  const knobs = {};
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith('PLAN_') && value !== undefined) knobs[name] = Number(value);
  return knobs;
}

await loadParser();
const costs = [];
for (const exercise of EXERCISES) costs.push(await costOfTail(exercise));
const config = { ...plannerConfig({}), ...fromEnvironment() };

const report = [];
report.push(`bench/planner: one tail of bench/load planned in this thread (as in a worker), median of ${ROUNDS}`);
const w1 = [10, 6, 6, 9, 12, 10, 7];
report.push(pad(['exercise', 'steps', 'chars', 'total ms', 'split+parse', 'canonical', 'keys'], w1));
for (const c of costs)
  report.push(pad([c.name, c.steps, c.chars, ms(c.totalMs), ms(c.splitParseMs), ms(c.canonicalMs), ms(c.keysMs)], w1));
report.push(
  `pool: PLAN_WORKERS ${config.PLAN_WORKERS}, PLAN_QUEUE_MAX ${config.PLAN_QUEUE_MAX} waiting, PLAN_QUEUE_PER_ACCOUNT ${config.PLAN_QUEUE_PER_ACCOUNT}, PLAN_QUEUE_MAX_CHARS ${config.PLAN_QUEUE_MAX_CHARS}, PLAN_CACHE_ENTRIES ${config.PLAN_CACHE_ENTRIES} (on) / 0 (off)`,
);
report.push(
  `arrival: ${LEARNERS} learners over ${ARRIVE_S} s, each its tail then its head (keyed on the tail); latency = queue + job + the result's copy`,
);
const w2 = [6, 6, 5, 9, 9, 9, 9, 9, 9, 30];
report.push(
  pad(
    ['cache', 'plans', 'jobs', 'tail p50', 'tail p95', 'tail max', 'head p50', 'head p95', 'head max', 'refused'],
    w2,
  ),
);
for (const entries of [0, config.PLAN_CACHE_ENTRIES]) {
  const { tails, heads, refused, queued } = await arrival(entries);
  const refusals = [...refused].map(([code, n]) => `${n} ${code.replace('SQL_RUNNER_', '')}`).join(', ') || '0';
  report.push(
    pad(
      [
        entries === 0 ? 'off' : 'on',
        tails.length + heads.length,
        queued,
        ms(pct(tails, 50)),
        ms(pct(tails, 95)),
        ms(Math.max(...tails)),
        ms(pct(heads, 50)),
        ms(pct(heads, 95)),
        ms(Math.max(...heads)),
        refusals,
      ],
      w2,
    ),
  );
}
process.stdout.write(`${report.join('\n')}\n`);
