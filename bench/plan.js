// Planning throughput of the chain model on a ~10 MB pg_dump-style script,
// next to the time psql takes to execute the same file on a real server.
// Run after `npm run build`: node bench/plan.js
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { planChain } from '../services/sql-runner/dist/domain/chain/index.js';

const TARGET_BYTES = 10 * 1024 * 1024;
const PSQL = '/usr/bin/psql';

function row(table, i) {
  const name = `name ${i} with tab\\t and quote ' and "dq"`;
  const note = i % 7 === 0 ? '\\N' : `note; -- not a comment /* ${i} */ $$`;
  const price = (i * 1.37).toFixed(2);
  const at = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
  return `${i}\t${table}-${name}\t${note}\t${price}\t${at}\t${i % 2 === 0 ? 't' : 'f'}\t{${i},${i + 1}}\n`;
}

function generate() {
  const parts = [
    '--\n-- PostgreSQL database dump\n--\n\n\\restrict benchkey\n\n',
    "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n",
    "SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\n",
  ];
  let size = parts.join('').length;
  let table = 0;
  while (size < TARGET_BYTES) {
    const t = `public.t${table}`;
    const block = [
      `CREATE TABLE ${t} (\n    id integer NOT NULL,\n    name text,\n    note text,\n    price numeric(12,2),\n    at timestamptz,\n    flag boolean,\n    tags integer[]\n);\n\n`,
      `CREATE FUNCTION public.f${table}(x integer) RETURNS integer\n    LANGUAGE plpgsql\n    AS $fn$\nBEGIN\n  -- body; with semicolons\n  RETURN x + ${table}; -- $$ inside\nEND;\n$fn$;\n\n`,
      `COPY ${t} (id, name, note, price, at, flag, tags) FROM stdin;\n`,
    ];
    for (let i = 0; i < 20_000; i++) block.push(row(t, i));
    block.push('\\.\n\n');
    for (let i = 0; i < 200; i++)
      block.push(`INSERT INTO ${t} (id, name, price) VALUES (${100_000 + i}, 'ins''${i};', ${i}.5);\n`);
    block.push(`\nALTER TABLE ONLY ${t}\n    ADD CONSTRAINT t${table}_pkey PRIMARY KEY (id);\n\n`);
    block.push(`CREATE INDEX t${table}_name ON ${t} USING btree (name);\n\n`);
    const text = block.join('');
    parts.push(text);
    size += Buffer.byteLength(text);
    table++;
  }
  parts.push('\\unrestrict benchkey\n');
  return parts.join('');
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

async function psqlSeconds(file) {
  if (!existsSync(PSQL)) return { skipped: 'psql not installed' };
  let kit;
  try {
    kit = await import('../backend/kit/dist/index.js');
  } catch (error) {
    return { skipped: `kit not built (${error.message})` };
  }
  const rootDir = await mkdtemp(join(tmpdir(), 'taidon-bench-pg-'));
  const server = await kit.startPostgresServer({
    rootDir,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  try {
    const started = performance.now();
    await run(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file, server.url]);
    return { seconds: (performance.now() - started) / 1000, version: server.version };
  } finally {
    await server.stop();
    await rm(rootDir, { recursive: true, force: true });
  }
}

const sql = generate();
const megabytes = Buffer.byteLength(sql) / (1024 * 1024);
const dir = await mkdtemp(join(tmpdir(), 'taidon-bench-'));
const file = join(dir, 'dump.sql');
await writeFile(file, sql);
try {
  const timings = [];
  let steps = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const chain = await planChain([{ path: 'dump.sql', sql }], { engineVersion: 'bench' });
    timings.push((performance.now() - started) / 1000);
    steps = chain.steps.length;
  }
  const median = [...timings].sort((a, b) => a - b)[1];
  const psql = await psqlSeconds(file);
  const rows = [
    ['script', `${megabytes.toFixed(1)} MB, ${steps} steps`],
    ['planChain median of 3', `${median.toFixed(3)} s (runs: ${timings.map((t) => t.toFixed(3)).join(', ')})`],
    ['planning MB/s', (megabytes / median).toFixed(1)],
    ['planning steps/s', Math.round(steps / median).toString()],
    [
      'psql -f execution',
      psql.seconds === undefined
        ? `skipped: ${psql.skipped}`
        : `${psql.seconds.toFixed(2)} s (PostgreSQL ${psql.version})`,
    ],
    ['planning / execution', psql.seconds === undefined ? 'n/a' : `${((median / psql.seconds) * 100).toFixed(1)} %`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
