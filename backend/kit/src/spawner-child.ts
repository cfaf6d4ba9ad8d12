// The spawner's own process (see spawner.ts): a small Node process whose only
// work is fork+exec, so a service's large process never forks. Reads requests
// from its IPC channel, answers on it, and exits when its parent goes.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { collectCommand, renice } from './exec.js';
import { boundToParent } from './parent-death.js';
import type { SpawnerReply, SpawnerRequest } from './spawner.js';

const reply = (message: SpawnerReply) => process.send?.(message);

/**
 * Started processes that asked for a parent-death signal the kernel will not send (no setpriv here), by pid:
 * this process sends it when its parent goes. Removed when they exit, so a recycled pid is never signalled.
 */
const signalOnExit = new Map<number, NodeJS.Signals>();

function runToEnd(request: Extract<SpawnerRequest, { kind: 'run' }>): void {
  collectCommand(request.file, request.args, request).then(
    (outcome) => reply({ id: request.id, kind: 'done', ...outcome }),
    (error: Error) => reply({ id: request.id, kind: 'error', message: error.message }),
  );
}

function startDetached(request: Extract<SpawnerRequest, { kind: 'start' }>): void {
  let log: number | undefined;
  try {
    log = openSync(request.stderrFile, 'a', 0o600);
    const signal = request.parentDeathSignal;
    const bound = signal ? boundToParent(request.file, request.args, signal) : undefined;
    const child = spawn(bound?.file ?? request.file, bound?.args ?? request.args, {
      cwd: request.cwd,
      env: request.env,
      uid: request.uid,
      gid: request.gid,
      detached: true,
      stdio: ['ignore', 'ignore', log],
    });
    // Right after exec, before the program can fork anything of its own (a postmaster loads its libraries first).
    if (request.nice !== undefined && child.pid !== undefined) renice(child.pid, request.nice);
    const pid = child.pid;
    if (signal && !bound && pid !== undefined) signalOnExit.set(pid, signal);
    child.once('spawn', () => reply({ id: request.id, kind: 'started', pid: child.pid ?? -1 }));
    child.once('error', (error) => reply({ id: request.id, kind: 'error', message: error.message }));
    child.once('exit', () => {
      if (pid !== undefined) signalOnExit.delete(pid);
      reply({ id: request.id, kind: 'exited' });
    });
  } catch (error) {
    reply({ id: request.id, kind: 'error', message: (error as Error).message });
  } finally {
    if (log !== undefined) closeSync(log);
  }
}

process.on('message', (request: SpawnerRequest) => {
  if (request.kind === 'run') runToEnd(request);
  else startDetached(request);
});
// Detached processes otherwise outlive this one (they are reparented). Those started with a parent-death signal
// get it from the kernel as this process exits; where setpriv is missing, from here, now.
process.on('disconnect', () => {
  for (const [pid, signal] of signalOnExit) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited meanwhile.
    }
  }
  process.exit(0);
});
