// Loaded into every Node process of the platform by bench/grading with BENCH_CPU_PROFILE_DIR set (through
// NODE_OPTIONS=--require, which passes to the services the launcher starts): V8's sampling profiler from the
// process's start, written at its exit to $TAIDON_CPU_PROFILE_DIR/<script>-<pid>.cpuprofile. (Node 20 refuses
// --cpu-prof in NODE_OPTIONS.) Read the files with bench/lib/profile-summary.js.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.TAIDON_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.TAIDON_CPU_PROFILE_INTERVAL_US ?? 200) });
  session.post('Profiler.start');
  // "sql-runner_dist_server.js": the service's folder and its script.
  const name = (process.argv[1] ?? 'node').split('/').slice(-3).join('_');
  process.on('exit', () => {
    // The inspector answers on this thread before post returns, so the file is written before the exit.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
