// Projects in Git (issue 17), through the platform as `npm start` runs it, each
// figure beside its floor measured in the same run on the same machine:
//
// - save: PUT /api/projects/{id}/files/{path} with If-Match (vcs-sync writes the
//   file and commits it as the account), p50/p95, beside `git` itself writing
//   the same file and committing it in a repository on the same filesystem
//   (`git add` + `git commit`, two processes, as a script would);
// - a project run after a one-line change in its last seed script: the chain
//   restores the layer taken at the end of the script before it and replays
//   only that script, beside a full replay of the same scripts (a first step
//   that differs per sample, so nothing of the chain is cached);
// - import, push and pull of a 1,000-file project (an import from a URL, a push
//   of a change, a pull of a change made elsewhere) against `file://` bare
//   repositories, beside `git clone`, `git push` and `git pull` of copies of
//   the same repositories by `git` alone.
//
// Run after `npm run build`: flock /tmp/taidon-bench.lock node bench/projects.js
// Knobs (environment): BENCH_SAVES (40), BENCH_RUNS (5), BENCH_SEED_ROWS (200000),
// BENCH_FILES (1000).

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startPlatform } from './lib/load-platform.js';
import { eventReader } from './lib/ndjson.js';

const SAVES = Number(process.env.BENCH_SAVES ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SEED_ROWS = Number(process.env.BENCH_SEED_ROWS ?? 200_000);
const FILES = Number(process.env.BENCH_FILES ?? 1000);

const exec = promisify(execFile);
const log = (line) => process.stderr.write(`[projects] ${line}\n`);
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (value) => (value === undefined ? '–' : value.toFixed(1));

const platform = await startPlatform({
  env: {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES ?? String(4 * 1024 ** 3),
    RATE_LIMIT_IP_MAX: '1000000',
    RATE_LIMIT_ACCOUNT_MAX: '1000000',
    VCS_SYNC_ALLOW_FILE_REMOTES: 'true',
  },
  log,
});
const scratch = await mkdtemp(join(tmpdir(), 'taidon-bench-projects-'));

/** A call through the gateway as `token`; JSON or text in, the status, ETag and parsed body out. */
async function call(token, method, path, init = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.text !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  if (init.ifMatch) headers['if-match'] = init.ifMatch;
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.text;
  const response = await fetch(`${platform.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
  return { status: response.status, etag: response.headers.get('etag'), text, json };
}

function expectStatus(answer, ...statuses) {
  if (!statuses.includes(answer.status)) throw new Error(`answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  return answer;
}

async function signIn() {
  const response = await fetch(`${platform.url}/api/auth/anonymous`, { method: 'POST' });
  return (await response.json()).accessToken;
}

async function newProject(token, name) {
  return expectStatus(await call(token, 'POST', '/api/projects', { json: { name } }), 201).json.id;
}

/** Writes `path` (created when `etag` is undefined); answers the new ETag. */
async function save(token, project, path, text, etag) {
  const answer = await call(token, 'PUT', `/api/projects/${project}/files/${path}`, { text, ifMatch: etag });
  return expectStatus(answer, 200, 201).etag;
}

/** A run of `body`: its time to `done` in ms and the `done` event. */
async function timedRun(token, body) {
  const started = performance.now();
  const response = await fetch(`${platform.url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`run answered ${response.status}: ${await response.text()}`);
  const next = eventReader(response.body);
  let done;
  for (let event = await next(); event; event = await next()) {
    if (event.type === 'error') throw new Error(`run failed: ${JSON.stringify(event)}`);
    if (event.type === 'done') done = event;
  }
  if (done?.outcome !== 'ok') throw new Error(`run ended ${JSON.stringify(done)}`);
  return { ms: performance.now() - started, done };
}

const rows = [];
try {
  const token = await signIn();

  // Saves, then git alone on the same filesystem.
  {
    const project = await newProject(token, 'saves');
    let etag = await save(token, project, 'notes.sql', '-- 0\n');
    const times = [];
    for (let i = 1; i <= SAVES; i++) {
      const started = performance.now();
      etag = await save(token, project, 'notes.sql', `-- ${i}\nSELECT ${i};\n`, etag);
      times.push(performance.now() - started);
    }
    const repo = join(scratch, 'git-saves');
    await mkdir(repo);
    const git = (...args) =>
      exec('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', ...args], { cwd: repo });
    await git('init', '-q');
    const floor = [];
    for (let i = 0; i <= SAVES; i++) {
      const started = performance.now();
      await writeFile(join(repo, 'notes.sql'), `-- ${i}\nSELECT ${i};\n`);
      await git('add', 'notes.sql');
      await git('commit', '-q', '-m', `save ${i}`);
      if (i > 0) floor.push(performance.now() - started);
    }
    rows.push([
      'save a file (commit)',
      SAVES,
      quantile(times, 0.5),
      quantile(times, 0.95),
      quantile(floor, 0.5),
      quantile(floor, 0.95),
      'git add + git commit',
    ]);
  }

  // A project run after a one-line change in the last seed script, against a full replay.
  {
    const project = await newProject(token, 'chain');
    await save(
      token,
      project,
      'init/01-schema.sql',
      'CREATE TABLE big (id int PRIMARY KEY, v text);\nCREATE TABLE notes (n int);\n',
    );
    await save(
      token,
      project,
      'seed/01-big.sql',
      `INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, ${SEED_ROWS}) g;\n`,
    );
    let etag = await save(token, project, 'seed/02-notes.sql', 'INSERT INTO notes VALUES (0);\n');
    const head = 'SELECT count(*) FROM big;';
    await timedRun(token, { tail: { project }, head }); // builds and caches the chain
    const changed = [];
    const steps = [];
    for (let i = 1; i <= RUNS; i++) {
      etag = await save(token, project, 'seed/02-notes.sql', `INSERT INTO notes VALUES (${i});\n`, etag);
      const { ms: took, done } = await timedRun(token, { tail: { project }, head });
      changed.push(took);
      steps.push(done.stepsReplayed);
    }
    const full = [];
    for (let i = 1; i <= RUNS; i++) {
      // The same scripts after a first step of its own: no layer of this chain exists.
      const files = [
        { path: 'init/00-marker.sql', sql: `CREATE TABLE marker_${i}_${Date.now()} ();\n` },
        {
          path: 'init/01-schema.sql',
          sql: 'CREATE TABLE big (id int PRIMARY KEY, v text);\nCREATE TABLE notes (n int);\n',
        },
        {
          path: 'seed/01-big.sql',
          sql: `INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, ${SEED_ROWS}) g;\n`,
        },
        { path: 'seed/02-notes.sql', sql: `INSERT INTO notes VALUES (${i});\n` },
      ];
      full.push((await timedRun(token, { tail: { files }, head })).ms);
    }
    rows.push([
      `project run, last seed script changed (replays ${[...new Set(steps)].join('/')} step)`,
      RUNS,
      quantile(changed, 0.5),
      quantile(changed, 0.95),
      quantile(full, 0.5),
      quantile(full, 0.95),
      `full replay (${SEED_ROWS} rows seeded)`,
    ]);
  }

  await remoteRows(rows);
} finally {
  printTable(rows);
  await platform.stop().catch((error) => log(`stop: ${error.message}`));
  await platform.removeRoot().catch(() => {});
  await rm(scratch, { recursive: true, force: true });
}

/**
 * Import, push and pull of a FILES-file project against `file://` bare repositories (VCS_SYNC_ALLOW_FILE_REMOTES,
 * a bench's setting: no HTTP in either column), each beside git alone doing the same on copies of the same
 * repositories: `git clone`, `git commit` + `git push`, and `git pull` of a change another clone pushed.
 */
async function remoteRows(into) {
  const git = (cwd, ...args) =>
    exec('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', '-c', 'init.defaultBranch=main', ...args], {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
  // One repository of FILES files (init/, seed/ and many small scripts), pushed to two bare copies: the
  // platform's and git's.
  const source = join(scratch, 'source');
  await mkdir(join(source, 'lib'), { recursive: true });
  await git(scratch, 'init', '-q', source);
  for (let i = 0; i < FILES; i++) {
    await writeFile(join(source, 'lib', `f${String(i).padStart(4, '0')}.sql`), `-- file ${i}\nSELECT ${i};\n`);
  }
  await git(source, 'add', '-A');
  await git(source, 'commit', '-q', '-m', `${FILES} files`);
  const bare = {};
  for (const side of ['platform', 'git']) {
    bare[side] = join(scratch, `${side}.git`);
    await git(scratch, 'clone', '-q', '--bare', source, bare[side]);
  }
  const url = (side) => `file://${bare[side]}`;
  /** A clone of `side`'s bare repository that commits and pushes one change, as another person would. */
  const elsewhere = async (side, name, i) => {
    const dir = join(scratch, `${side}-${name}`);
    if (i === 1) await git(scratch, 'clone', '-q', url(side), dir);
    else await git(dir, 'pull', '-q', '--no-rebase');
    await writeFile(join(dir, 'lib', 'f0000.sql'), `-- changed elsewhere ${i}\nSELECT 0;\n`);
    await git(dir, 'commit', '-q', '-am', `elsewhere ${i}`);
    await git(dir, 'push', '-q', 'origin', 'main');
  };
  const timed = async (fn) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  let token;
  const imports = [];
  const clones = [];
  let project;
  for (let i = 1; i <= RUNS; i++) {
    // An account of its own each time (an anonymous account holds a few projects); the last one pushes and pulls.
    token = await signIn();
    imports.push(
      await timed(async () => {
        const answer = await call(token, 'POST', '/api/projects', {
          json: { name: `imported-${i}`, import: { url: url('platform') } },
        });
        project = expectStatus(answer, 201).json.id;
      }),
    );
    clones.push(await timed(() => git(scratch, 'clone', '-q', url('git'), join(scratch, `clone-${i}`))));
  }
  into.push([
    `import (clone) of a ${FILES}-file project`,
    RUNS,
    quantile(imports, 0.5),
    quantile(imports, 0.95),
    quantile(clones, 0.5),
    quantile(clones, 0.95),
    'git clone',
  ]);

  const pushes = [];
  const gitPushes = [];
  const mine = join(scratch, 'clone-1');
  let etag = (await call(token, 'GET', `/api/projects/${project}/files/lib/f0001.sql`)).etag;
  for (let i = 1; i <= RUNS; i++) {
    etag = await save(token, project, 'lib/f0001.sql', `-- pushed ${i}\nSELECT 1;\n`, etag);
    pushes.push(await timed(async () => expectStatus(await call(token, 'POST', `/api/projects/${project}/push`), 200)));
    await writeFile(join(mine, 'lib', 'f0001.sql'), `-- pushed ${i}\nSELECT 1;\n`);
    await git(mine, 'commit', '-q', '-am', `pushed ${i}`);
    gitPushes.push(await timed(() => git(mine, 'push', '-q', 'origin', 'main')));
  }
  into.push([
    `push of one change (${FILES} files)`,
    RUNS,
    quantile(pushes, 0.5),
    quantile(pushes, 0.95),
    quantile(gitPushes, 0.5),
    quantile(gitPushes, 0.95),
    'git push',
  ]);

  const pulls = [];
  const gitPulls = [];
  for (let i = 1; i <= RUNS; i++) {
    await elsewhere('platform', 'other', i);
    pulls.push(
      await timed(async () => {
        const answer = expectStatus(await call(token, 'POST', `/api/projects/${project}/pull`), 200);
        if (answer.json.status === 'up-to-date') throw new Error('the pull found nothing to take');
      }),
    );
    await elsewhere('git', 'other', i);
    gitPulls.push(await timed(() => git(mine, 'pull', '-q', '--no-rebase')));
  }
  into.push([
    `pull of one change (${FILES} files)`,
    RUNS,
    quantile(pulls, 0.5),
    quantile(pulls, 0.95),
    quantile(gitPulls, 0.5),
    quantile(gitPulls, 0.95),
    'git pull',
  ]);
}

function printTable(table) {
  const header = ['operation', 'n', 'p50 ms', 'p95 ms', 'floor p50', 'floor p95', 'floor'];
  const lines = [header, ...table.map((r) => [r[0], String(r[1]), ms(r[2]), ms(r[3]), ms(r[4]), ms(r[5]), r[6]])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const line of lines) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
