// The spawner's own process (see spawner.ts): a small Node process whose only
// work is fork+exec, so a service's large process never forks. Reads requests
// from its IPC channel, answers on it, and exits when its parent goes.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { SpawnerReply, SpawnerRequest } from './spawner.js';

const reply = (message: SpawnerReply) => process.send?.(message);

function runToEnd(request: Extract<SpawnerRequest, { kind: 'run' }>): void {
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, {
      cwd: request.cwd,
      env: request.env,
      uid: request.uid,
      gid: request.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    reply({ id: request.id, kind: 'error', message: (error as Error).message });
    return;
  }
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, request.timeoutMs);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.on('error', (error) => {
    clearTimeout(timer);
    reply({ id: request.id, kind: 'error', message: error.message });
  });
  child.on('close', (exitCode, signal) => {
    clearTimeout(timer);
    reply({
      id: request.id,
      kind: 'done',
      exitCode,
      signal,
      timedOut,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    });
  });
  child.stdin?.on('error', () => {});
  child.stdin?.end(request.input ?? '');
}

function startDetached(request: Extract<SpawnerRequest, { kind: 'start' }>): void {
  let log: number | undefined;
  try {
    log = openSync(request.stderrFile, 'a', 0o600);
    const child = spawn(request.file, request.args, {
      cwd: request.cwd,
      env: request.env,
      uid: request.uid,
      gid: request.gid,
      detached: true,
      stdio: ['ignore', 'ignore', log],
    });
    child.once('spawn', () => reply({ id: request.id, kind: 'started', pid: child.pid ?? -1 }));
    child.once('error', (error) => reply({ id: request.id, kind: 'error', message: error.message }));
    child.once('exit', () => reply({ id: request.id, kind: 'exited' }));
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
// Detached servers outlive this process (they are reparented); commands in flight are killed with it.
process.on('disconnect', () => process.exit(0));
