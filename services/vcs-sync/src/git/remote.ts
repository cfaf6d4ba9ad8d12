import { readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import { CommandError } from '@taidon/kit';
import { VcsSyncError } from '../errors.js';
import { type Git, type RemotePolicy, remoteSettings, tokenEnv } from './git.js';
import { type PinnedAddress, pinRemoteAddress, pinSetting, type Resolver, systemResolver } from './remote-address.js';

/** A remote as one git call needs it: the checked URL and the token, opened only for this call. */
export interface RemoteTarget {
  url: string;
  token?: string | undefined;
}

/** The private ref a fetch lands on, so nothing fetched touches a branch until it is checked. */
export const INCOMING_REF = 'refs/taidon/incoming';

/** Deadline of the HTTP request that tells why a remote refused git (see explainFailure). */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * The git commands that talk to a remote, over the one Git runner (its
 * hardening, deadline, output bound and process slots) with the remote
 * settings on top: the allowed protocols only, no redirects, integrity
 * checks, and the token in the command's environment only (tokenEnv).
 * The remote is always named by URL on the command line (never stored in
 * `.git/config`), and a URL never holds credentials (checkRemoteUrl).
 * Before each command the host is resolved and checked again
 * (pinRemoteAddress) and git is pinned to the address checked
 * (`http.curloptResolve`), so a name rebound to an internal address between
 * the check and the connection changes nothing.
 */
export class RemoteGit {
  constructor(
    private readonly git: Git,
    private readonly policy: RemotePolicy,
    private readonly timeoutMs: number,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /**
   * The address of an http(s) remote, checked (422 VCS_SYNC_REMOTE_ADDRESS_REFUSED
   * when it is not public); undefined for a `file` remote (no network).
   */
  async checkAddress(url: string): Promise<PinnedAddress | undefined> {
    if (new URL(url).protocol === 'file:') return undefined;
    return pinRemoteAddress(url, this.policy, this.resolve);
  }

  private options(target: RemoteTarget, pin: PinnedAddress | undefined) {
    return {
      settings: [...remoteSettings(this.policy), ...(pin ? pinSetting(pin) : [])],
      env: tokenEnv(target.token),
      timeoutMs: this.timeoutMs,
    };
  }

  /** The branch the remote's HEAD names and its commit; undefined for an empty repository. */
  async defaultBranch(dir: string, target: RemoteTarget): Promise<{ branch: string; commit: string } | undefined> {
    const out = await this.talk(dir, target, 'git-upload-pack', ['ls-remote', '--symref', target.url, 'HEAD']);
    const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out);
    const commit = /^([0-9a-f]{40,64})\tHEAD$/m.exec(out);
    if (!symref?.[1] || !commit?.[1]) return undefined;
    return { branch: symref[1], commit: commit[1] };
  }

  /** The commit the remote's `branch` is at; undefined when it has no such branch. */
  async branchCommit(dir: string, target: RemoteTarget, branch: string): Promise<string | undefined> {
    const ref = `refs/heads/${branch}`;
    const out = await this.talk(dir, target, 'git-upload-pack', ['ls-remote', target.url, ref]);
    for (const line of out.split('\n')) {
      const [commit, name] = line.split('\t');
      if (name === ref && commit) return commit;
    }
    return undefined;
  }

  /**
   * Fetches the remote's `branch` into INCOMING_REF (no tags, no submodules,
   * no FETCH_HEAD), no file written larger than `maxFileBytes`; answers the
   * commit fetched.
   */
  async fetch(dir: string, target: RemoteTarget, branch: string, maxFileBytes: number): Promise<string> {
    const pin = await this.checkAddress(target.url);
    try {
      await this.git.run(
        dir,
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          '--no-recurse-submodules',
          '--no-auto-gc',
          target.url,
          `+refs/heads/${branch}:${INCOMING_REF}`,
        ],
        { ...this.options(target, pin), fileSizeLimitBytes: maxFileBytes },
      );
    } catch (error) {
      await removePartialPacks(dir);
      if (!(error instanceof CommandError)) throw error;
      throw new VcsSyncError('VCS_SYNC_REMOTE_FETCH_FAILED', 'Fetching from the remote failed; nothing was kept.', {
        cause: error,
      });
    }
    return (await this.git.run(dir, ['rev-parse', '--verify', `${INCOMING_REF}^{commit}`])).trim();
  }

  /** Pushes `commit` to the remote's `branch`, never forced. Answers whether git accepted it. */
  async push(dir: string, target: RemoteTarget, commit: string, branch: string): Promise<boolean> {
    const pin = await this.checkAddress(target.url);
    const outcome = await this.git
      .call(
        dir,
        ['push', '--quiet', '--no-verify', '--no-recurse-submodules', target.url, `${commit}:refs/heads/${branch}`],
        { ...this.options(target, pin), allowExitCodes: [1] },
      )
      .catch(async (error: unknown) => {
        if (!(error instanceof CommandError)) throw error;
        throw await explainFailure(target, pin, 'git-receive-pack', error);
      });
    return outcome.ok;
  }

  /** A read of the remote's refs; a failure is explained by what the remote answers over HTTP. */
  private async talk(dir: string, target: RemoteTarget, service: string, args: string[]): Promise<string> {
    const pin = await this.checkAddress(target.url);
    try {
      return await this.git.run(dir, args, this.options(target, pin));
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      throw await explainFailure(target, pin, service, error);
    }
  }
}

/**
 * Removes what a fetch that was killed (its deadline, the file size limit)
 * left half-written: `objects/pack/tmp_*`. Safe here because a project's
 * changes run one at a time (ProjectLocks): no other git process of this
 * project is writing one.
 */
async function removePartialPacks(dir: string): Promise<void> {
  const packs = join(dir, '.git', 'objects', 'pack');
  const names = await readdir(packs).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => name.startsWith('tmp_')).map((name) => rm(join(packs, name), { force: true })),
  );
}

/**
 * Why git could not talk to a remote, from the remote's own answer rather
 * than git's words: the same first request git makes (`info/refs`, with the
 * same Authorization header, no redirect followed), to the same pinned
 * address, its HTTP status mapped to a code. The status itself is never
 * answered: a caller must not learn what an arbitrary host and port say.
 * A `file` remote git could not read does not exist.
 */
async function explainFailure(
  target: RemoteTarget,
  pin: PinnedAddress | undefined,
  service: string,
  cause: CommandError,
): Promise<VcsSyncError> {
  if (!pin) {
    return new VcsSyncError('VCS_SYNC_REMOTE_NOT_FOUND', 'There is no repository at this URL.', { cause });
  }
  const headers: Record<string, string> = { 'user-agent': 'git/2 (taidon vcs-sync)' };
  if (target.token !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`x-access-token:${target.token}`).toString('base64')}`;
  }
  let status: number;
  try {
    status = await probeStatus(`${target.url.replace(/\/+$/, '')}/info/refs?service=${service}`, pin, headers);
  } catch {
    return new VcsSyncError('VCS_SYNC_REMOTE_UNREACHABLE', 'The remote could not be reached.', { cause });
  }
  if (status === 401 || status === 403) {
    return new VcsSyncError(
      'VCS_SYNC_REMOTE_AUTH_FAILED',
      target.token === undefined
        ? 'The remote asks for credentials: set the remote again with a token.'
        : 'The remote refused the token: it is wrong, expired, or lacks access to this repository.',
      { cause },
    );
  }
  if (status === 404) {
    return new VcsSyncError('VCS_SYNC_REMOTE_NOT_FOUND', 'The remote has no repository at this URL.', { cause });
  }
  return new VcsSyncError('VCS_SYNC_REMOTE_UNREACHABLE', 'The remote did not answer as a Git server.', { cause });
}

/**
 * The HTTP status of a GET of `url`, connected to the pinned address (the
 * URL's host still named in `Host` and TLS SNI, and checked against the
 * certificate), no redirect followed, the body left unread.
 */
function probeStatus(url: string, pin: PinnedAddress, headers: Record<string, string>): Promise<number> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [{ address: pin.address, family: pin.family }]);
    else callback(null, pin.address, pin.family);
  };
  const send = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: 'GET', headers, lookup, timeout: PROBE_TIMEOUT_MS }, (response) => {
      resolve(response.statusCode ?? 0);
      response.destroy();
    });
    request.on('timeout', () => request.destroy(new Error('probe timed out')));
    request.on('error', reject);
    request.end();
  });
}
