// How many socket writes and reads one REPL run and one anonymous sign-in make on each kind of hop (issue 22):
// the platform started as bench/cost starts it, warmed, then strace -f -yy on every platform Node process while
// RUNS REPL runs and SIGNINS sign-ins go through; each write/read on a socket is counted by its peer (a service's
// port, the control plane, a sandbox server, a Unix socket), per operation. strace slows the processes; only
// the counts are read.
// Run after `npm run build` (strace installed): flock /tmp/taidon-bench.lock node bench/hop-counts.js
import { spawn } from 'node:child_process';
import { gatewayClient, runFailure } from './lib/gateway-client.js';
import { servicePorts, startPlatform } from './lib/load-platform.js';
import { platformProcesses } from './lib/platform-cpu.js';

const RUNS = Number(process.env.HOPS_RUNS ?? 200);
const SIGNINS = Number(process.env.HOPS_SIGNINS ?? 100);
const log = (line) => console.error(`[hop-counts] ${line}`);
const env = { LOG_LEVEL: 'warn', RATE_LIMIT_IP_MAX: '1000000', RATE_LIMIT_ACCOUNT_MAX: '1000000' };
const platform = await startPlatform({ env, log });
const strace = [];
try {
  const url = platform.url;
  await platform.admin.query(`UPDATE user_profile.role_quotas SET runs_per_minute = 1000000 WHERE role = 'anonymous'`);
  const client = gatewayClient(url);
  const signIn = () => client.signIn();
  const run = async (token, body) => {
    const answer = await client.run(token, body);
    const failure = runFailure(answer);
    if (failure) throw failure;
    return answer.sessionId;
  };
  const token = await signIn();
  const sessionId = await run(token, {
    tail: { sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g;' },
    head: 'SELECT 1',
  });
  for (let i = 0; i < 300; i++) await run(token, { sessionId, head: 'SELECT count(*) FROM t' });
  for (let i = 0; i < 100; i++) await signIn();

  // Peers by port: the services' (from their listening sockets), the control plane's.
  const processes = (await platformProcesses(platform.pid)).filter((p) => p.kind === 'node');
  const cpPort = String((await platform.admin.query('SELECT inet_server_port() AS p')).rows[0].p);
  const ports = await servicePorts(platform.pid);
  const peerName = (local, remote) => {
    if (remote === cpPort) return 'control plane';
    if (ports.has(remote)) return `→ ${ports.get(remote)}`;
    if (ports.has(local)) return `← client of ${ports.get(local)}`;
    return 'sandbox or other';
  };

  const measure = async (label, n, op) => {
    const outputs = processes.map((p) => {
      const child = spawn(
        'strace',
        [
          '-f',
          '-yy',
          '-qq',
          '-e',
          'trace=write,writev,sendto,sendmsg,read,readv,recvfrom,recvmsg',
          '-p',
          String(p.pid),
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let text = '';
      child.stderr.on('data', (c) => {
        text += c;
      });
      strace.push(child);
      return { p, child, text: () => text };
    });
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < n; i++) await op();
    await new Promise((r) => setTimeout(r, 500));
    const counts = new Map();
    for (const o of outputs) {
      o.child.kill('SIGINT');
      await new Promise((r) => o.child.once('exit', r));
      for (const line of o.text().split('\n')) {
        const m =
          /(write|writev|sendto|sendmsg|read|readv|recvfrom|recvmsg)\(\d+<(TCP|UNIX-STREAM|UNIX):\[([^\]]*)\]>/.exec(
            line,
          );
        if (!m || / = -1 EAGAIN/.test(line)) continue;
        const kind = /^(write|writev|sendto|sendmsg)$/.test(m[1]) ? 'writes' : 'reads';
        let peer;
        if (m[2] === 'TCP') {
          const tm = /:(\d+)->[^:]+:(\d+)/.exec(m[3]);
          peer = tm ? peerName(tm[1], tm[2]) : 'tcp?';
        } else peer = 'unix socket';
        const key = `${o.p.name} ${peer} ${kind}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const [key, c] of [...counts].sort()) console.log(`${label}: ${key} ${(c / n).toFixed(2)} per op`);
  };
  await measure('REPL run', RUNS, () => run(token, { sessionId, head: 'SELECT count(*) FROM t' }));
  await measure('sign-in', SIGNINS, () => signIn());
} finally {
  for (const s of strace) s.kill('SIGKILL');
  await platform.stop();
  await platform.removeRoot().catch(() => {});
}
