import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { type CommandOutcome, processSpawner } from './spawner.js';

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
  /**
   * Kill the command (SIGKILL) once its stdout and stderr together pass this many bytes, so a command that
   * prints without end cannot fill the caller's memory; the outcome says `outputExceeded`. Unset: unbounded.
   */
  maxOutputBytes?: number;
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
  /** Killed for printing more than `maxOutputBytes`. */
  readonly outputExceeded: boolean;
  /** What it printed on stdout before it ended (some commands answer there even when they exit non-zero). */
  readonly stdout: string;

  constructor(fields: {
    command: string;
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    timedOut: boolean;
    outputExceeded?: boolean;
    stdout?: string;
  }) {
    const why = fields.timedOut
      ? 'timed out'
      : fields.outputExceeded
        ? 'printed more than it may'
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
    this.outputExceeded = fields.outputExceeded ?? false;
    this.stdout = fields.stdout ?? '';
  }
}

export type { CommandOutcome } from './spawner.js';

/**
 * Runs `file` in this process to its end, bounded by the timeout; rejects
 * only when it cannot be started at all.
 */
export function collectCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandOutcome> {
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
    let outputExceeded = false;
    let outputBytes = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (outputExceeded) return;
      outputBytes += chunk.length;
      if (options.maxOutputBytes !== undefined && outputBytes > options.maxOutputBytes) {
        outputExceeded = true;
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        timedOut,
        ...(outputExceeded ? { outputExceeded } : {}),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {
      // The command may exit before reading its input; its exit status tells the story.
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs `file` with an argument array (never through a shell), bounded by a
 * timeout; resolves with its output when it exits 0 and rejects with a
 * CommandError carrying its stderr otherwise. The fork happens in the
 * spawner's small process where there is one (see spawner.ts).
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  const spawner = processSpawner();
  let outcome: CommandOutcome;
  try {
    outcome =
      spawner && !Buffer.isBuffer(options.input)
        ? await spawner.run({
            file,
            args,
            timeoutMs: options.timeoutMs,
            env: options.env ?? process.env,
            cwd: options.cwd,
            uid: options.uid,
            gid: options.gid,
            input: options.input,
            ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
          })
        : await collectCommand(file, args, options);
  } catch (error) {
    throw new CommandError({
      command: file,
      exitCode: null,
      signal: null,
      stderr: (error as Error).message,
      timedOut: false,
    });
  }
  const { exitCode, signal, timedOut, stdout, stderr } = outcome;
  const outputExceeded = outcome.outputExceeded === true;
  if (exitCode === 0 && !timedOut && !outputExceeded) return { stdout, stderr };
  throw new CommandError({ command: file, exitCode, signal, stderr, timedOut, outputExceeded, stdout });
}

/** Sets the niceness of process `pid`; not allowed (not root and lowering it) or the process gone: left as it is. */
export function renice(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch {
    // It runs at the niceness it has.
  }
}
