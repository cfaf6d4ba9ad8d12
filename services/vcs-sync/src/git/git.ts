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
}

/**
 * The one way vcs-sync runs git: an argument array (never a shell), the
 * repository named explicitly (`--git-dir`, `--work-tree`: git never looks
 * for one above the project), the hardening above, a deadline, and a metric
 * per operation by outcome and latency.
 */
export class Git {
  constructor(private readonly options: { timeoutMs: number; homeDir: string; metrics: GitMetrics }) {}

  /** Runs `git <args>` in the project at `dir`; rejects on a non-zero exit (a CommandError) or a timeout. */
  async run(dir: string, args: readonly string[], options: GitCallOptions = {}): Promise<string> {
    const outcome = await this.call(dir, args, options);
    return outcome.stdout;
  }

  /** Like run, but an exit code listed in `allowExitCodes` answers `ok: false` instead of rejecting. */
  async call(dir: string, args: readonly string[], options: GitCallOptions = {}): Promise<GitOutcome> {
    const operation = args[0] ?? 'git';
    const begin = performance.now();
    const observe = (outcome: 'ok' | 'refused' | 'error' | 'timeout') => {
      const labels = { operation, outcome };
      this.options.metrics.operations.inc(labels);
      this.options.metrics.durationSeconds.observe(labels, (performance.now() - begin) / 1000);
    };
    try {
      const { stdout } = await runCommand(
        'git',
        ['--git-dir', `${dir}/.git`, '--work-tree', dir, ...HARDENING, ...args],
        {
          timeoutMs: this.options.timeoutMs,
          cwd: dir,
          env: gitEnv(this.options.homeDir),
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
      if (
        error instanceof CommandError &&
        error.exitCode !== null &&
        options.allowExitCodes?.includes(error.exitCode)
      ) {
        observe('refused');
        return { ok: false, exitCode: error.exitCode, stdout: '' };
      }
      observe('error');
      throw error;
    }
  }
}
