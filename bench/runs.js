// Time from request to first result row of POST /api/runs, by the path the
// run's starting state takes (the session's own instance, a warm-pool
// instance, a clone of a cached layer, a reset from the instance's template
// database, a full replay of the tail), each new-instance path also as a ratio
// to the floor measured in the same run (btrfs snapshot + start + first row), next to
// baselines on the same machine without the platform (fresh initdb + start,
// CREATE DATABASE … TEMPLATE on a shared server, a restore of a dump), for an
// empty state and a ~100 MB seeded one. Prints one table with p50/p95, the
// ratio to the warm-pool p50 and the targets of issue 4. The throwaway rows
// (ADR 0031) time sql-runner's throwaway clone alone (clone + start to the
// first row; with its delete) and a whole POST /api/explain, beside the floor.
// Run after `npm run build`: node bench/runs.js
// Knobs (environment): BENCH_FAST_SAMPLES (15), BENCH_SLOW_SAMPLES (3), BENCH_SEED_ROWS (750000).
// The platform runs with its defaults, so sql-runner keeps RUN_WARM_POOL_EMPTY
// (2) started instances of the empty database (K0): the "clone" rows lower
// the pool of their key to 0 while they run, and a full replay starts from K0
// as any first run does (taken from that pool).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bareFloor,
  headExecution,
  initdbAndStart,
  now,
  startPlatform,
  startScratchServer,
  throwawayFirstRow,
} from './lib/runs-env.js';

const FAST = Number(process.env.BENCH_FAST_SAMPLES ?? 15);
const SLOW = Number(process.env.BENCH_SLOW_SAMPLES ?? 3);
const SEED_ROWS = Number(process.env.BENCH_SEED_ROWS ?? 750_000);
const HEAD = 'SELECT 1';
const POOL_SIZE = 2;
/** Discarded runs before each fast row (and before the first), so JIT warm-up is not measured. */
const WARMUP = 3;
/** Pause after a clone sample: the layer's next clone is made ahead 60 ms after one is taken (ADR 0018). */
const SPARE_PAUSE_MS = 250;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const FIRST_WARMUP = 30;
/** RUN_WARM_POOL_EMPTY as the platform runs with it. */
const EMPTY_POOL = Number(process.env.RUN_WARM_POOL_EMPTY ?? 2);

const CREATE_BIG = `CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, ${SEED_ROWS}) g`;
const INDEX_BIG = 'CREATE INDEX big_id ON big (id)';

/** The two states: what the tail is, and the same state as plain statements for the baselines. */
const STATES = [
  { id: 'empty', label: 'empty', tailSql: '', statements: [] },
  { id: 'big', label: '~100 MB', tailSql: `${CREATE_BIG};\n${INDEX_BIG};\n`, statements: [CREATE_BIG, INDEX_BIG] },
];

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (p === 50) {
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  return sorted[Math.min(sorted.length, Math.ceil((p / 100) * sorted.length)) - 1];
}
const p50 = (v) => percentile(v, 50);
const p95 = (v) => percentile(v, 95);
const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const mb = (bytes) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

function expectPath(label, result, source, check = () => true) {
  if (result.done.source !== source || !check(result.done)) {
    throw new Error(`${label}: expected source ${source}, the run reported ${JSON.stringify(result.done)}`);
  }
}

/** Per-sample server-side timings (from `done`), summarised as p50s. */
function serverSide(results) {
  const t = (k) => p50(results.map((r) => r.done.timings[k]));
  return `restore ${t('restoreMs')} / replay ${t('replayMs')} / exec ${t('executeMs')}`;
}

const rows = [];
const notes = [];
const benchStarted = now();
const platform = await startPlatform();
let scratch;
try {
  const token = await platform.signIn();
  const plan = async (sql) => {
    const r = await fetch(`${platform.gatewayUrl}/api/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
    });
    if (!r.ok) throw new Error(`plan answered ${r.status}: ${await r.text()}`);
    return r.json();
  };
  let headMs;
  const figures = {};
  const baseKey = (await plan('')).finalKey;
  // sql-runner builds K0 and declares its pool in the background at start; measure after that settled.
  const warmUpStarted = now();
  if (EMPTY_POOL > 0) await platform.waitWarmPool(baseKey, EMPTY_POOL);
  notes.push(
    `empty database (K0) built and its warm pool of ${EMPTY_POOL} filled at start in ${fmt(now() - warmUpStarted)} ms after the services listened`,
  );
  /** Pool size each key has by default: K0 keeps RUN_WARM_POOL_EMPTY, others none. */
  const defaultPool = (key) => (key === baseKey ? EMPTY_POOL : 0);
  {
    const opened = await platform.run(token, { tail: { sql: '' }, head: HEAD });
    for (let i = 0; i < FIRST_WARMUP; i++) await platform.run(token, { sessionId: opened.sessionId, head: HEAD });
    await platform.deleteOwnedInstances();
    if (EMPTY_POOL > 0) await platform.waitWarmPool(baseKey, EMPTY_POOL);
  }

  for (const state of STATES) {
    const tail = { sql: state.tailSql };
    const { finalKey } = await plan(state.tailSql);
    // First run of the state builds it (template, replay, layers) and says how big it is.
    const prime = await platform.run(token, { tail, head: 'SELECT pg_database_size(current_database())' });
    const size = Number(prime.rows[0][0]);
    notes.push(
      `${state.label}: sandbox database ${mb(size)} (pg_database_size); its first run ${fmt(prime.firstRowMs)} ms (source ${prime.done.source}, ${prime.done.stepsReplayed} steps replayed)`,
    );
    await platform.deleteOwnedInstances();
    const f = {};
    figures[state.id] = f;

    // Clone of the cached layer: a new learner each sample, no pool for the key.
    await platform.setWarmPool(finalKey, 0);
    // Samples apart, as independent learners arrive (and as the warm-pool row waits for its refill): the
    // layer's clone made ahead is ready. Then back to back, as learners right behind each other on one layer.
    const clone = [];
    const burst = [];
    for (const [samples, pauseMs] of [
      [clone, SPARE_PAUSE_MS],
      [burst, 0],
    ]) {
      for (let i = 0; i < WARMUP + FAST; i++) {
        const learner = await platform.signIn();
        const r = await platform.run(learner, { tail, head: HEAD });
        expectPath('clone', r, 'clone', (d) => d.stepsReplayed === 0 && d.layerKey === finalKey);
        if (i >= WARMUP) samples.push(r);
        await platform.deleteOwnedInstances();
        await sleep(pauseMs);
      }
    }

    // Throwaway clones (ADR 0031), with no pool for the key either: the primitive alone (clone + start to the
    // first row, and with its delete), then a whole POST /api/explain of the head on the tail's state.
    const throwaway = await throwawayFirstRow(platform, finalKey, WARMUP + FAST);
    const explain = [];
    for (let i = 0; i < WARMUP + FAST; i++) {
      const started = now();
      const r = await fetch(`${platform.gatewayUrl}/api/explain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tail, statement: HEAD }),
      });
      const answer = await r.json();
      if (r.status !== 200 || answer.source !== 'layer') throw new Error(`explain: ${JSON.stringify(answer)}`);
      if (i >= WARMUP) explain.push(now() - started);
    }

    // A reset: the tail again on a session whose instance is a clone of the layer; the instance keeps the layer's
    // state as a template database and the sandbox database is made again from it (ADR 0029). A row is
    // written before each sample, so that each reset has something to undo.
    const reset = [];
    {
      const learner = await platform.signIn();
      const first = await platform.run(learner, { tail, head: HEAD });
      expectPath('reset: first run', first, 'clone');
      for (let i = 0; i < WARMUP + FAST; i++) {
        await platform.run(learner, {
          sessionId: first.sessionId,
          head: 'CREATE TABLE IF NOT EXISTS since_reset (); SELECT 1',
        });
        const r = await platform.run(learner, { sessionId: first.sessionId, tail, head: HEAD });
        // Not enforced: a reset the template cannot serve takes the old path; the note says which it took.
        if (i >= WARMUP) reset.push(r);
      }
      const sources = [...new Set(reset.map((r) => r.done.source))].join(', ');
      notes.push(`${state.label}: reset samples reported source ${sources}`);
      await platform.deleteOwnedInstances();
    }

    // The floor, in this run, without the platform: a snapshot of the same layer, a server on it, one
    // connection, the first row (the machine's own speed, which differs 3–4× between machines).
    const floor = await bareFloor(platform, finalKey, FAST);

    // The session's own instance: one session, head-only runs that continue on it.
    const opened = await platform.run(token, { tail, head: HEAD });
    const session = [];
    for (let i = 0; i < WARMUP + FAST; i++) {
      const r = await platform.run(token, { sessionId: opened.sessionId, head: HEAD });
      expectPath('session', r, 'session');
      if (i >= WARMUP) session.push(r);
    }
    if (headMs === undefined) {
      const head = await headExecution(await platform.sessionInstancePort(opened.sessionId), 200);
      headMs = p50(head);
      notes.push(
        `head's own execution: SELECT 1 on an open learner connection to a sandbox instance, p50 ${headMs.toFixed(2)} ms, p95 ${p95(head).toFixed(2)} ms (200 round trips)`,
      );
    }
    await platform.deleteOwnedInstances();

    // Warm pool: POOL_SIZE ready instances of the key; each sample waits until the pool is full again.
    await platform.setWarmPool(finalKey, POOL_SIZE);
    const pool = [];
    for (let i = 0; i < WARMUP + FAST; i++) {
      await platform.waitWarmPool(finalKey, POOL_SIZE);
      const learner = await platform.signIn();
      const r = await platform.run(learner, { tail, head: HEAD });
      expectPath('warm pool', r, 'pool', (d) => d.warmPool);
      if (i >= WARMUP) pool.push(r);
      await platform.deleteOwnedInstances();
    }
    await platform.setWarmPool(finalKey, defaultPool(finalKey));

    // Full replay: a unique first statement, so no prefix of the tail is cached; restores K0 and replays all of it.
    const replay = [];
    const replayN = state.id === 'empty' ? FAST : SLOW;
    const steps = state.statements.length + 1;
    for (let i = 0; i < replayN; i++) {
      if (EMPTY_POOL > 0) await platform.waitWarmPool(baseKey, EMPTY_POOL);
      const sql = `CREATE TABLE u_${state.id}_${i} ();\n${state.tailSql}`;
      const r = await platform.run(await platform.signIn(), { tail: { sql }, head: HEAD });
      expectPath(
        'replay',
        r,
        EMPTY_POOL > 0 ? 'pool' : 'clone',
        (d) => d.stepsReplayed === steps && d.layerKey === baseKey,
      );
      replay.push(r);
      await platform.deleteOwnedInstances();
    }

    const ms = (results) => results.map((r) => r.firstRowMs);
    f.session = { n: session.length, times: ms(session), server: serverSide(session) };
    f.pool = { n: pool.length, times: ms(pool), server: serverSide(pool) };
    f.clone = { n: clone.length, times: ms(clone), server: serverSide(clone) };
    f.burst = { n: burst.length, times: ms(burst), server: serverSide(burst) };
    f.reset = { n: reset.length, times: ms(reset), server: serverSide(reset) };
    f.floor = { n: floor.length, times: floor, server: '' };
    f.throwaway = { n: FAST, times: throwaway.firstRow.slice(WARMUP), server: '' };
    f.throwawayWhole = { n: FAST, times: throwaway.whole.slice(WARMUP), server: '' };
    f.explain = { n: explain.length, times: explain, server: '' };
    f.replay = { n: replay.length, times: ms(replay), server: serverSide(replay) };
  }

  // Baselines, without the platform, on the same machine.
  scratch = await startScratchServer(platform.root);
  for (const state of STATES) {
    const f = figures[state.id];
    const initdb = [];
    for (let i = 0; i < (state.id === 'empty' ? 5 : SLOW); i++) {
      initdb.push(await initdbAndStart(platform.root, `initdb-${state.id}-${i}`, state.statements));
    }
    f.initdb = { n: initdb.length, times: initdb, server: '' };

    const template = `tpl_${state.id}`;
    const templateSize = await scratch.seed(template, state.statements);
    const copyN = state.id === 'empty' ? FAST : 5;
    for (const strategy of ['WAL_LOG', 'FILE_COPY']) {
      const times = [];
      for (let i = 0; i < copyN; i++) {
        times.push(await scratch.templateCopy(template, `copy_${state.id}_${i}`, strategy));
      }
      f[`template_${strategy}`] = { n: times.length, times, server: '' };
    }

    const file = join(platform.root, `dump-${state.id}.sql`);
    await scratch.dump(
      template,
      state.statements.length ? 'big' : null,
      'CREATE TABLE big (id integer, a text, b text)',
      INDEX_BIG,
      file,
    );
    const restore = [];
    for (let i = 0; i < (state.id === 'empty' ? 5 : SLOW); i++) {
      restore.push(await scratch.restore(file, `restore_${state.id}_${i}`));
    }
    f.restore = { n: restore.length, times: restore, server: '' };
    notes.push(
      `${state.label}: template database on the shared server ${mb(templateSize)}; plain dump ${mb((await stat(file)).size)}`,
    );
  }
  await scratch.close();
  scratch = undefined;

  // The table.
  const header = ['state', 'path', 'n', 'p50 ms', 'p95 ms', '× pool', '× floor', 'target (p50)', 'ok', 'server p50 ms'];
  for (const state of STATES) {
    const f = figures[state.id];
    const poolP50 = p50(f.pool.times);
    const cloneP50 = p50(f.clone.times);
    const fast = `≤ head ${headMs.toFixed(1)} + 15 = ${(headMs + 15).toFixed(1)}`;
    const big = state.id === 'big';
    const floorP50 = p50(f.floor.times);
    const ratio = (a, b) => `${(a / b).toFixed(a / b >= 100 ? 0 : 1)}×`;
    const line = (label, fig, target, pass, toFloor = false) => {
      const a = p50(fig.times);
      rows.push([
        state.label,
        label,
        String(fig.n),
        fmt(a),
        fmt(p95(fig.times)),
        ratio(a, poolP50),
        toFloor ? ratio(a, floorP50) : '',
        target ?? '',
        pass === undefined ? '' : pass ? 'PASS' : 'FAIL',
        fig.server,
      ]);
    };
    line('session (same instance)', f.session, fast, p50(f.session.times) <= headMs + 15);
    line('warm pool', f.pool, fast, poolP50 <= headMs + 15, true);
    line('clone of cached layer', f.clone, '≤ 60', cloneP50 <= 60, true);
    line('clone, back to back', f.burst, undefined, undefined, true);
    line('reset: template database (same instance)', f.reset, undefined, undefined, true);
    line('floor: btrfs snapshot + start + connect + row', f.floor, undefined, undefined, true);
    line('throwaway clone: clone + start + first row', f.throwaway, undefined, undefined, true);
    line('throwaway clone, its delete included', f.throwawayWhole, undefined, undefined, true);
    line('POST /api/explain on a throwaway clone', f.explain, undefined, undefined, true);
    const replayRatio = p50(f.replay.times) / cloneP50;
    line(
      'full replay of tail',
      f.replay,
      big ? `≥ 100× clone (is ${replayRatio.toFixed(0)}×)` : undefined,
      big ? replayRatio >= 100 : undefined,
    );
    line(big ? 'baseline: initdb + start + seed' : 'baseline: initdb + start', f.initdb);
    line('baseline: CREATE DATABASE TEMPLATE (WAL_LOG)', f.template_WAL_LOG);
    line('baseline: CREATE DATABASE TEMPLATE (FILE_COPY)', f.template_FILE_COPY);
    const restoreRatio = p50(f.restore.times) / cloneP50;
    line(
      'baseline: restore (psql -f plain dump)',
      f.restore,
      big ? `≥ 10× clone (is ${restoreRatio.toFixed(0)}×)` : undefined,
      big ? restoreRatio >= 10 : undefined,
    );
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const print = (cells) =>
    console.log(
      cells
        .map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  console.log('');
  print(header);
  print(widths.map((w) => '-'.repeat(w)));
  let last;
  for (const r of rows) {
    if (last !== undefined && r[0] !== last) console.log('');
    last = r[0];
    print(r);
  }
  console.log('');
  console.log('Notes:');
  for (const n of [
    `time = client side, from sending POST /api/runs (through the gateway) to the first \`rows\` event; head ${HEAD}; a new anonymous learner per sample except "session" (signed in before the clock starts): their first run, which the instance quota's quick check lets through without asking env-manager (ADR 0015)`,
    `× pool = p50 / warm-pool p50 of the same state; server p50 = restoreMs / replayMs / executeMs of the run's \`done\` timings`,
    `× floor = p50 / the floor's p50 of the same state, measured in this run: a btrfs snapshot of the same layer, PostgreSQL started on it (polled every ~1 ms), one learner connection and SELECT 1, no platform (stop and delete untimed); the floor moves 3–4× from one machine to the next, the ratio tells what the platform adds`,
    `reset: one learner's session on a clone of the layer; before each sample a head creates a table; then the tail again on the session (source template-reset: the sandbox database dropped and made again from the instance's template database, STRATEGY FILE_COPY with file_copy_method clone, ADR 0029); time includes closing and reopening the learner connection`,
    `warm pool: ${POOL_SIZE} ready instances of the state's key; each sample waits until the pool is refilled, so the refill of the instance it took runs during the run`,
    `clone: no pool for the key; samples ${SPARE_PAUSE_MS} ms apart, so the layer's clone made ahead 60 ms after the previous sample took one is ready (ADR 0018), as independent learners arriving on a layer find it; back to back: the next sample starts once the previous instance is deleted (~80 ms after the previous clone), as learners right behind each other on one layer`,
    `full replay: tail = a unique \`CREATE TABLE u_<n> ();\` + the state's tail, so only K0 is cached; starts from K0 (taken from its default warm pool of ${EMPTY_POOL}) and includes the layers the replay takes`,
    `each fast row is preceded by ${WARMUP} discarded runs, and the bench by ${FIRST_WARMUP} (JIT warm-up of the in-process services)`,
    `baselines: sandbox-like settings (${'fsync/full_page_writes off, synchronous commits, wal_level minimal, autovacuum off, io_method sync'}); initdb with the runtime's flags (--no-sync), postgres started as taidon-pg, polled every ~1 ms, then seed statements (100 MB), then SELECT 1`,
    'baselines CREATE DATABASE / restore: on one shared scratch server, over an open superuser connection; time = CREATE DATABASE + connect (trust on loopback, like the learner connection) + first row',
    'restore: no pg_dump/pg_restore for PostgreSQL 18 here, so the dump is plain SQL as pg_dump -Fp writes it (CREATE TABLE, COPY … FROM stdin of COPY TO STDOUT output, CREATE INDEX), loaded with psql -f',
    ...notes,
    `bench total ${((now() - benchStarted) / 1000).toFixed(0)} s`,
  ])
    console.log(`- ${n}`);
} finally {
  if (scratch) await scratch.close().catch(() => {});
  await platform.close();
}
