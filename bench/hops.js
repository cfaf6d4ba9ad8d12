// What one round trip costs on each kind of hop a REPL run crosses on one machine, over loopback TCP and over a
// Unix socket, measured side by side (issue 22, ADR 0025): rounds alternate between the two transports, so both
// see the same load on a shared machine.
//
// - PostgreSQL's protocol, as sql-runner speaks it to a sandbox and to the control plane: one extended-protocol
//   query (`SELECT $1::int`, Parse/Bind/Execute/Sync in one write) on an open connection, CLIENTS connections at
//   once, to one server of ours listening on 127.0.0.1 and on its socket directory. CPU = this process (the
//   client) + the backends serving those connections (/proc/<pid>/stat), per round trip.
// - HTTP between services: node:http with a keep-alive agent, a small JSON request and answer, to a node:http
//   server in a child process listening on both; CPU = this process + the child, per request.
//
// Run after `npm run build`: flock /tmp/taidon-bench.lock node bench/hops.js
// Knobs (environment): HOPS_ROUNDS (6 counted per transport, after 2 warm), HOPS_N (20000 round trips per round),
// HOPS_CLIENTS (8). Prints each round, then per hop the mean µs of CPU per round trip and the difference per pair.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresServer } from '../backend/kit/dist/index.js';

const ROUNDS = Number(process.env.HOPS_ROUNDS ?? 6);
const WARM = 2;
const N = Number(process.env.HOPS_N ?? 20000);
const CLIENTS = Number(process.env.HOPS_CLIENTS ?? 8);
const log = (line) => console.error(`[hops] ${line}`);
const show = (us) => `client ${us.client.toFixed(1)} + server ${us.server.toFixed(1)} = ${us.total.toFixed(1)} µs`;

async function cpuOf(pid) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const sum = (values) => values.reduce((a, b) => a + b, 0);

/** Runs `n` operations over the lanes; µs of CPU per operation of this process (client) and of `others` (server). */
async function measure(n, lanes, others) {
  const before = { client: ownCpu(), server: sum(await Promise.all(others().map(cpuOf))) };
  let next = 0;
  await Promise.all(
    lanes.map(async (op) => {
      while (next < n) {
        next++;
        await op();
      }
    }),
  );
  const client = ((ownCpu() - before.client) / n) * 1000;
  const server = ((sum(await Promise.all(others().map(cpuOf))) - before.server) / n) * 1000;
  return { client, server, total: client + server };
}

async function pgSide(server, host) {
  const clients = [];
  const backends = [];
  for (let c = 0; c < CLIENTS; c++) {
    const url = new URL(server.url);
    const client = new pg.Client({
      host,
      port: server.port,
      user: 'postgres',
      password: decodeURIComponent(url.password),
      database: 'postgres',
    });
    await client.connect();
    backends.push((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    clients.push(client);
  }
  let i = 0;
  return {
    run: () =>
      measure(
        N,
        clients.map((c) => () => c.query('SELECT $1::int AS n', [i++ % 1000])),
        () => backends,
      ),
    close: () => Promise.all(clients.map((c) => c.end())),
  };
}

const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const [port, path] = process.argv.slice(1);
const handler = (req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const answer = JSON.stringify({ ok: true, got: body.length, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
};
try { fs.unlinkSync(path); } catch {}
const tcp = http.createServer({ keepAliveTimeout: 60000 }, handler);
tcp.listen(Number(port), '127.0.0.1', () => {
  http.createServer({ keepAliveTimeout: 60000 }, handler).listen(path, () => process.send(tcp.address().port));
});
`;

function httpSide(target) {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const body = JSON.stringify({ sessionId: '5b1e4f0a-1111-4222-8333-944445555666', head: 'SELECT count(*) FROM t' });
  const call = () =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          ...target,
          agent,
          method: 'POST',
          path: '/runs',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { agent, lanes: Array.from({ length: CLIENTS }, () => call) };
}

const root = join(tmpdir(), `taidon-bench-hops-${process.pid}`);
await mkdir(root, { mode: 0o711 });
await chmod(root, 0o711);
const server = await startPostgresServer({ rootDir: join(root, 'pg') });
const socketDir = join(root, 'pg', 'run');
const sockPath = join(root, 'http.sock');
const child = spawn(process.execPath, ['-e', SERVER, '0', sockPath], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const tcpPort = await new Promise((resolve, reject) => {
  child.once('message', resolve);
  child.once('exit', () => reject(new Error('the HTTP server exited')));
});
try {
  const sides = {
    'pg tcp': await pgSide(server, '127.0.0.1'),
    'pg unix': await pgSide(server, socketDir),
  };
  const tcpHttp = httpSide({ host: '127.0.0.1', port: tcpPort });
  const unixHttp = httpSide({ socketPath: sockPath });
  const results = { 'pg tcp': [], 'pg unix': [], 'http tcp': [], 'http unix': [] };
  for (let round = 0; round < WARM + ROUNDS; round++) {
    const pgOrder = round % 2 === 0 ? ['pg tcp', 'pg unix'] : ['pg unix', 'pg tcp'];
    for (const name of pgOrder) {
      const us = await sides[name].run();
      if (round >= WARM) results[name].push(us);
      log(`round ${round} ${name}: ${show(us)} per round trip`);
    }
    const httpOrder = round % 2 === 0 ? ['http tcp', 'http unix'] : ['http unix', 'http tcp'];
    for (const name of httpOrder) {
      const side = name === 'http tcp' ? tcpHttp : unixHttp;
      const us = await measure(N, side.lanes, () => [child.pid]);
      if (round >= WARM) results[name].push(us);
      log(`round ${round} ${name}: ${show(us)} per request`);
    }
  }
  const mean = (v) => sum(v) / v.length;
  for (const hop of ['pg', 'http']) {
    for (const part of ['client', 'server', 'total']) {
      const tcp = results[`${hop} tcp`].map((r) => r[part]);
      const unix = results[`${hop} unix`].map((r) => r[part]);
      const diffs = unix.map((u, i) => u - tcp[i]);
      console.log(
        `${hop} ${part}: tcp ${mean(tcp).toFixed(1)} µs, unix ${mean(unix).toFixed(1)} µs per round trip; ` +
          `unix - tcp per pair ${diffs.map((d) => d.toFixed(1)).join(' ')} (mean ${mean(diffs).toFixed(1)}, ` +
          `${diffs.filter((d) => d < 0).length} of ${diffs.length} lower)`,
      );
    }
  }
  await sides['pg tcp'].close();
  await sides['pg unix'].close();
  tcpHttp.agent.destroy();
  unixHttp.agent.destroy();
} finally {
  child.kill();
  await server.stop();
  await rm(root, { recursive: true, force: true });
}
