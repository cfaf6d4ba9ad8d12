import { VcsSyncError } from '../errors.js';
import type { RemotePolicy } from '../git/git.js';

/** Longest remote URL accepted, in characters. */
export const MAX_REMOTE_URL_CHARS = 2048;

/** `transport::address`, git's syntax for remote helpers (`ext::sh -c …` runs a command). */
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;
/** scp-like `[user@]host:path`, which git reads as ssh. */
const SCP_LIKE = /^[^/:]+:/;

/**
 * Checks a remote URL from a stranger before git ever sees it, each refusal
 * with its own code: `https` only, plain `http` to 127.0.0.1 and `file` only
 * where the policy allows them, no remote helper (`ext::`), no ssh, no
 * credentials inside the URL (a token travels apart and encrypted), no
 * query or fragment. Git's own `protocol.allow` settings refuse the same
 * again (remoteSettings): this check gives the clear answer, that one the
 * guarantee. Answers the URL as git will be given it.
 */
export function checkRemoteUrl(raw: string, policy: RemotePolicy): string {
  if (raw.length === 0 || raw.length > MAX_REMOTE_URL_CHARS) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', `A remote URL has 1 to ${MAX_REMOTE_URL_CHARS} characters.`);
  }
  if (REMOTE_HELPER.test(raw)) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_PROTOCOL', 'Remote helpers (`transport::address`) are not allowed.', {
      details: { protocol: raw.slice(0, raw.indexOf('::')).slice(0, 40) },
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', 'A remote URL has no spaces and no control characters.');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    if (SCP_LIKE.test(raw)) {
      throw new VcsSyncError('VCS_SYNC_REMOTE_PROTOCOL', 'ssh remotes are not allowed; use an https URL.', {
        details: { protocol: 'ssh' },
      });
    }
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', 'The remote is not an absolute URL.');
  }
  const protocol = url.protocol.replace(/:$/, '');
  const allowed =
    protocol === 'https' ||
    (protocol === 'http' && policy.allowLoopbackHttp && url.hostname === '127.0.0.1') ||
    (protocol === 'file' && policy.allowFile);
  if (!allowed) {
    throw new VcsSyncError(
      'VCS_SYNC_REMOTE_PROTOCOL',
      protocol === 'http' && policy.allowLoopbackHttp
        ? 'Plain http is allowed to 127.0.0.1 only; use https.'
        : `Remotes use https, not ${protocol}.`,
      { details: { protocol: protocol.slice(0, 40) } },
    );
  }
  if (url.username || url.password) {
    throw new VcsSyncError(
      'VCS_SYNC_REMOTE_URL_CREDENTIALS',
      'Put the token in `token`, not in the URL: a URL is stored and shown as it is.',
    );
  }
  if (url.search || url.hash) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', 'A remote URL has no query and no fragment.');
  }
  if (protocol !== 'file' && !url.hostname) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', 'The remote URL names no host.');
  }
  return url.href;
}

/** A branch name as a request may give one: git's ref rules, kept to a plain, short subset. */
export const BRANCH_NAME = /^(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)(?!-)[A-Za-z0-9._/-]{1,200}$/;
