import type { PullResult, PushResult } from '@taidon/contracts';
import type { ApiError } from '../../api/errors.js';

const short = (commit: string) => commit.slice(0, 8);

/** What a pull (or a resolved merge) did, in one sentence. */
export function describePull(result: PullResult): string {
  switch (result.status) {
    case 'up-to-date':
      return `Pull: already up to date at ${short(result.commit)}.`;
    case 'fast-forward':
      return `Pull: fast-forwarded to ${short(result.commit)} (the remote's ${short(result.theirs)}).`;
    case 'merged':
      return `Pull: merged the remote's ${short(result.theirs)} as ${short(result.commit)}.`;
  }
}

/** What a push did, in one sentence. */
export function describePush(result: PushResult): string {
  return result.status === 'pushed'
    ? `Push: ${short(result.commit)} is now ${result.branch} on the remote.`
    : `Push: the remote's ${result.branch} already has ${short(result.commit)}.`;
}

/** Sync failures the learner can act on, said plainly; anything else shows the server's detail. */
const ADVICE: Readonly<Record<string, string>> = {
  VCS_SYNC_PUSH_REJECTED: 'The remote has commits this project lacks: nothing was pushed. Pull first, then push.',
  VCS_SYNC_REMOTE_AUTH_FAILED: 'The remote refused the token: set the remote again with a valid one.',
  VCS_SYNC_REMOTE_NOT_SET: 'This project has no remote yet: set its URL first.',
  VCS_SYNC_REMOTE_UNREACHABLE: 'The remote could not be reached.',
  VCS_SYNC_REMOTE_PROTOCOL: 'Only https remotes are allowed here.',
  VCS_SYNC_PULL_CONFLICT:
    'Both sides changed the same files: nothing was changed. Resolve the conflicts below, or abort.',
};

/** A failed sync as the panel shows it: the advice for known codes, the server's detail otherwise, and the code. */
export function describeSyncError(action: string, error: ApiError): string {
  return `${action} failed: ${ADVICE[error.code] ?? error.message} (${error.code})`;
}
