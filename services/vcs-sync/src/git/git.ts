import { CommandError, runCommand } from '@taidon/kit';
import { VcsSyncError } from '../errors.js';
import type { GitMetrics } from '../metrics.js';

/**
 * Settings given with `-c` on every git call, over whatever a repository's
 * own config says: hooks live nowhere (`/dev/null` is no directory), checkouts
 * write links as plain files, no fsmonitor, no submodule recursion, no
 * protocol allowed until the remotes slice allows its own, no signing, paths
 * printed raw, and the committer is the service itself.
 */
const HARDENING = [
  'core.hooksPath=/dev/null',
  'core.symlinks=false',
  'core.fsmonitor=false',
  'core.quotePath=false',
  'core.autocrlf=false',
  'core.pager=cat',
  'commit.gpgSign=false',
  'protocol.allow=never',
  'submodule.recurse=false',
  'gc.autoDetach=false',
  'advice.detachedHead=false',
  'user.name=Taidon vcs-sync',
  'user.email=vcs-sync@taidon.invalid',
].flatMap((setting) => ['-c', setting]);

/**
 * The environment of every git call: no system or global config, no terminal
 * prompt, no replace objects, pathspecs taken literally (a file named `*` or
 * `:(exclude)x` is only that file), the C locale for output we parse.
 */
function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_LITERAL_PATHSPECS: '1',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PROTOCOL_FROM_USER: '0',
  };
}

/** Which remote protocols this installation allows (from configuration); `https` always. */
export interface RemotePolicy {
  /** Plain `http` (to 127.0.0.1 only: the URL check refuses any other host). */
  allowLoopbackHttp: boolean;
  /** `file://` remotes: tests only. */
  allowFile: boolean;
  /** Remotes on private networks (RFC 1918, unique local IPv6, carrier-grade NAT); loopback and link-local never. */
  allowPrivate: boolean;
}

/**
 * Settings of a git call that talks to a remote, over HARDENING: only the
 * allowed protocols (`protocol.allow=never` stays the default, so `ext::`,
 * `ssh`, `git` and every other transport is refused by git itself, whatever
 * the URL check missed), no redirect (an `Authorization` header must not
 * follow one to another host), git's integrity checks on every object
 * received (a `.git` path is left to vcs-sync's own check, which answers
 * with its own code), and a fetched pack kept as one file (so the file size
 * limit of the process bounds what a remote can write).
 */
export function remoteSettings(policy: RemotePolicy): string[] {
  return [
    'protocol.https.allow=always',
    `protocol.http.allow=${policy.allowLoopbackHttp ? 'always' : 'never'}`,
    `protocol.file.allow=${policy.allowFile ? 'always' : 'never'}`,
    'protocol.ext.allow=never',
    'http.followRedirects=false',
    'transfer.fsckObjects=true',
    'fetch.fsck.hasDotgit=ignore',
    'transfer.unpackLimit=1',
    'fetch.recurseSubmodules=false',
    'credential.helper=',
    'core.askPass=',
  ].flatMap((setting) => ['-c', setting]);
}

/**
 * The environment that hands a token to git for one command without putting
 * it in argv (the process list), `.git/config` or a URL: an `http.extraHeader`
 * given through `GIT_CONFIG_COUNT`/`KEY`/`VALUE`, which only this command and
 * its transport helper see.
 */
export function tokenEnv(token: string | undefined): Record<string, string> {
  if (token === undefined) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

/** What a git call printed, and how it ended when it is allowed to fail. */
export interface GitOutcome {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
}

/** Options of one git call. */
export interface GitCallOptions {
  /** Written to git's standard input. */
  input?: string;
  /** Exit codes that are answers, not failures (`cat-file -e` says "absent" with 1 or 128). */
  allowExitCodes?: readonly number[];
  /** `-c` settings after the hardening (remoteSettings for a call that talks to a remote). */
  settings?: readonly string[];
  /** Variables added to the call's environment (tokenEnv, GIT_INDEX_FILE, an author). */
  env?: Record<string, string>;
  /** A deadline other than the default (a fetch or push takes longer than a local command). */
  timeoutMs?: number;
  /** Largest file the command may write (RLIMIT_FSIZE, through `prlimit`): a fetch's pack cannot pass it. */
  fileSizeLimitBytes?: number;
}

/** Limits of every git call of the service. */
export interface GitLimits {
  timeoutMs: number;
  /** git processes of the service at once, every account together. */
  processesMax: number;
  /** Bytes one command may print. */
  outputMaxBytes: number;
  homeDir: string;
  metrics: GitMetrics;
}

/** A counting semaphore: at most `max` holders, the rest wait in order. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.max) {
      this.used += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter.
    if (next) next();
    else this.used -= 1;
  }
}

/**
 * The one way vcs-sync runs git: an argument array (never a shell), the
 * repository named explicitly (`--git-dir`, `--work-tree`: git never looks
 * for one above the project), the hardening above, a deadline, and a metric
 * per operation by outcome and latency.
 */
export class Git {
  private readonly slots: Slots;

  constructor(private readonly options: GitLimits) {
    this.slots = new Slots(options.processesMax);
  }

  /** Runs `git <args>` in the project at `dir`; rejects on a non-zero exit (a CommandError) or a timeout. */
  async run(dir: string, args: readonly string[], options: GitCallOptions = {}): Promise<string> {
    const outcome = await this.call(dir, args, options);
    return outcome.stdout;
  }

  /** Like run, but an exit code listed in `allowExitCodes` answers `ok: false` instead of rejecting. */
  async call(dir: string, args: readonly string[], options: GitCallOptions = {}): Promise<GitOutcome> {
    const operation = args[0] ?? 'git';
    const begin = performance.now();
    const observe = (outcome: 'ok' | 'refused' | 'error' | 'timeout' | 'output-exceeded') => {
      const labels = { operation, outcome };
      this.options.metrics.operations.inc(labels);
      this.options.metrics.durationSeconds.observe(labels, (performance.now() - begin) / 1000);
    };
    const gitArgs = [
      '--git-dir',
      `${dir}/.git`,
      '--work-tree',
      dir,
      ...HARDENING,
      ...(options.settings ?? []),
      ...args,
    ];
    const limited = options.fileSizeLimitBytes !== undefined;
    await this.slots.acquire();
    try {
      const { stdout } = await runCommand(
        limited ? 'prlimit' : 'git',
        limited ? [`--fsize=${options.fileSizeLimitBytes}`, '--', 'git', ...gitArgs] : gitArgs,
        {
          timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
          maxOutputBytes: this.options.outputMaxBytes,
          cwd: dir,
          env: { ...gitEnv(this.options.homeDir), ...options.env },
          ...(options.input === undefined ? {} : { input: options.input }),
        },
      );
      observe('ok');
      return { ok: true, exitCode: 0, stdout };
    } catch (error) {
      if (error instanceof CommandError && error.timedOut) {
        observe('timeout');
        throw new VcsSyncError('VCS_SYNC_GIT_TIMEOUT', `git ${operation} did not finish in time.`, { cause: error });
      }
      if (error instanceof CommandError && error.outputExceeded) {
        observe('output-exceeded');
        throw new VcsSyncError('VCS_SYNC_GIT_OUTPUT_TOO_LARGE', `git ${operation} printed more than it may.`, {
          cause: error,
        });
      }
      if (
        error instanceof CommandError &&
        error.exitCode !== null &&
        options.allowExitCodes?.includes(error.exitCode)
      ) {
        observe('refused');
        return { ok: false, exitCode: error.exitCode, stdout: error.stdout };
      }
      observe('error');
      throw error;
    } finally {
      this.slots.release();
    }
  }
}
