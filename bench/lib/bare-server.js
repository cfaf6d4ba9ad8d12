// A bare PostgreSQL server for the benches' floors and baselines: no platform, started as the unprivileged
// server user on a data directory the caller made (a btrfs snapshot of a layer, a copy of an initdb).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../backend/kit/dist/index.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts PostgreSQL on `volume` and waits until its lock file says ready; another port when its own was taken.
 * `args` go after the server's own (`-c name=value` settings). Answers { child, port, exited }.
 */
export async function startBare(volume, bins, user, args = []) {
  for (let attempt = 1; ; attempt++) {
    // freePort's port can be taken before the server binds it (the platform starts servers meanwhile), as in
    // the runtime: then the server exits at once and another port is tried.
    const port = await freePort();
    // The socket goes into the volume itself: the server's OS user owns it.
    const child = spawn(
      bins.postgres,
      ['-D', volume, '-p', String(port), '-c', `unix_socket_directories=${volume}`, ...args],
      {
        uid: user.uid,
        gid: user.gid,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (;;) {
      if (child.exitCode !== null) break;
      const lines = (await readFile(join(volume, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
      if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return { child, port, exited };
      await sleep(1);
    }
    if (attempt === 3 || !stderr.includes('could not bind')) throw new Error(`postgres exited during start: ${stderr}`);
  }
}
