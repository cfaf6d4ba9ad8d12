import { spawn } from 'node:child_process';
import { processSpawner } from './spawner.js';

/** Options of one external command run. */
export interface RunCommandOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; required so nothing hangs forever. */
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this OS user id (with `gid`); used to drop root for PostgreSQL. */
  uid?: number;
  gid?: number;
  /** Written to the command's standard input, which is then closed. */
  input?: string | Buffer;
}

/** What a finished command printed. */
export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * A command that failed: exit code or signal, and the stderr it printed, so a
 * log line or problem detail says why without re-running anything.
 */
export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(fields: {
    command: string;
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    timedOut: boolean;
  }) {
    const why = fields.timedOut
      ? 'timed out'
      : fields.signal
        ? `was killed by ${fields.signal}`
        : `exited with ${fields.exitCode}`;
    super(`${fields.command} ${why}: ${fields.stderr.trim().slice(-2000) || '(no stderr)'}`);
    this.name = 'CommandError';
    this.command = fields.command;
    this.exitCode = fields.exitCode;
    this.signal = fields.signal;
    this.stderr = fields.stderr;
    this.timedOut = fields.timedOut;
  }
}

/**
 * Runs `file` with an argument array (never through a shell), bounded by a
 * timeout; resolves with its output when it exits 0 and rejects with a
 * CommandError carrying its stderr otherwise.
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const spawner = processSpawner();
  if (spawner && !Buffer.isBuffer(options.input)) return runThrough(spawner, file, args, options);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new CommandError({
          command: file,
          exitCode: null,
          signal: null,
          stderr: error.message,
          timedOut: false,
        }),
      );
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (exitCode === 0 && !timedOut) resolve(result);
      else reject(new CommandError({ command: file, exitCode, signal, stderr: result.stderr, timedOut }));
    });
    child.stdin.on('error', () => {
      // The command may exit before reading its input; its exit status tells the story.
    });
    child.stdin.end(options.input ?? '');
  });
}

/** runCommand through the spawner process (see spawner.ts): the same results and errors. */
async function runThrough(
  spawner: NonNullable<ReturnType<typeof processSpawner>>,
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  let done: Awaited<ReturnType<typeof spawner.run>>;
  try {
    done = await spawner.run({
      file,
      args,
      timeoutMs: options.timeoutMs,
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      ...(typeof options.input === 'string' ? { input: options.input } : {}),
    });
  } catch (error) {
    throw new CommandError({
      command: file,
      exitCode: null,
      signal: null,
      stderr: (error as Error).message,
      timedOut: false,
    });
  }
  const { exitCode, signal, timedOut, stdout, stderr } = done;
  if (exitCode === 0 && !timedOut) return { stdout, stderr };
  throw new CommandError({ command: file, exitCode, signal, stderr, timedOut });
}
