import { VcsSyncError } from '../errors.js';
import type { RemoteTarget } from '../git/remote.js';
import type { Repository } from '../git/repository.js';
import { findRemote, upsertRemote } from '../store/remotes.js';
import { checkIncomingTree, dropIncoming } from './incoming.js';
import { clearPendingMerge, mergeInto, type PullResult } from './merge.js';
import { BRANCH_NAME, checkRemoteUrl } from './remote-url.js';
import { type Caller, changeProject, checkSize, readProject, sizeOnDisk, type Workspace } from './workspace.js';

/** A project's remote as callers see it: never the token, only whether there is one. */
export interface RemoteView {
  url: string;
  branch: string;
  hasToken: boolean;
  updatedAt: string;
}

/** The branch a remote is pulled from and pushed to when the request names none. */
export const DEFAULT_BRANCH = 'main';

/** Checks a branch name from a request (git's ref rules, a plain subset). */
export function checkBranch(branch: string | undefined): string {
  const name = branch ?? DEFAULT_BRANCH;
  if (!BRANCH_NAME.test(name)) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_URL_INVALID', 'The branch name is not one git allows.', {
      details: { branch: name.slice(0, 200) },
    });
  }
  return name;
}

/**
 * Sets (or replaces) the project's remote: the URL checked (checkRemoteUrl)
 * and its host's addresses (public only: RemoteGit.checkAddress; checked
 * again before every use),
 * the token sealed with the project's id. A token left out removes the one
 * kept before. Nothing of it reaches the project's `.git/config`.
 */
export function setRemote(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  request: { url: string; token?: string | undefined; branch?: string | undefined },
): Promise<RemoteView> {
  const url = checkRemoteUrl(request.url, ws.remotes.policy);
  const branch = checkBranch(request.branch);
  return changeProject(ws, caller, projectId, async (row) => {
    const tokenSealed = request.token === undefined ? null : ws.remotes.sealer.seal(request.token, row.id);
    await ws.remotes.git.checkAddress(url);
    const updatedAt = await upsertRemote(ws.pool, { projectId: row.id, url, branch, tokenSealed });
    return { url, branch, hasToken: tokenSealed !== null, updatedAt };
  });
}

/** The project's remote as callers see it (never the token), or null when it has none. */
export function getRemote(ws: Workspace, caller: Caller, projectId: string): Promise<RemoteView | null> {
  return readProject(ws, caller, projectId, async (row) => {
    const remote = await findRemote(ws.pool, row.id);
    return remote
      ? { url: remote.url, branch: remote.branch, hasToken: remote.tokenSealed !== null, updatedAt: remote.updatedAt }
      : null;
  });
}

/** The project's remote with its token opened for one operation; 409 when it has none. */
async function remoteOf(ws: Workspace, projectId: string): Promise<RemoteTarget & { branch: string }> {
  const remote = await findRemote(ws.pool, projectId);
  if (!remote) throw new VcsSyncError('VCS_SYNC_REMOTE_NOT_SET', 'The project has no remote.');
  return {
    url: remote.url,
    branch: remote.branch,
    ...(remote.tokenSealed ? { token: ws.remotes.sealer.open(remote.tokenSealed, projectId) } : {}),
  };
}

/** Bytes of the blobs of a commit's tree. */
async function treeBytes(repo: Repository, commit: string): Promise<number> {
  return (await repo.tree(commit)).reduce((sum, entry) => sum + (entry.sizeBytes ?? 0), 0);
}

/**
 * Fetches `branch` of the remote into the private incoming ref and checks it
 * before anything else sees it: the tree (checkIncomingTree), then the
 * project's size with the fetched objects and the new files against its cap
 * and the account's quota. A refusal drops what was fetched.
 */
export async function fetchChecked(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  repo: Repository,
  remote: RemoteTarget,
  branch: string,
  currentTreeBytes: number,
): Promise<string> {
  const fetched = await ws.remotes.git.fetch(repo.dir, remote, branch, ws.limits.projectMaxBytes);
  try {
    const incoming = await checkIncomingTree(ws, repo, fetched);
    const wouldBe = (await sizeOnDisk(repo.dir)) + Math.max(0, incoming.bytes - currentTreeBytes);
    await checkSize(ws, caller, projectId, wouldBe);
  } catch (error) {
    await dropIncoming(repo);
    throw error;
  }
  return fetched;
}

/**
 * Pulls the remote's branch into the project: up to date, a fast-forward, or
 * a merge commit when both sides changed different things. When both changed
 * the same files, nothing changes (working tree, branch, history) and 409
 * `VCS_SYNC_PULL_CONFLICT` gives each file's three versions; the pull waits
 * for `POST …/merge` or `DELETE …/merge` (merge.ts).
 */
export function pull(ws: Workspace, caller: Caller, projectId: string): Promise<PullResult> {
  return changeProject(ws, caller, projectId, async (row, repo) => {
    const remote = await remoteOf(ws, row.id);
    const theirs = await ws.remotes.git.branchCommit(repo.dir, remote, remote.branch);
    if (!theirs) {
      throw new VcsSyncError('VCS_SYNC_REMOTE_BRANCH_NOT_FOUND', `The remote has no branch ${remote.branch}.`, {
        details: { branch: remote.branch },
      });
    }
    const ours = await repo.head();
    const fetched = await fetchChecked(ws, caller, row.id, repo, remote, remote.branch, await treeBytes(repo, ours));
    await clearPendingMerge(repo);
    return mergeInto(repo, caller, ours, fetched, `Merge ${remote.branch} of ${remote.url}`);
  });
}

/** What a push did. */
export interface PushResult {
  status: 'pushed' | 'up-to-date';
  commit: string;
  branch: string;
}

/**
 * Pushes the project's latest commit to the remote's branch, never forced.
 * When the branch has commits the project lacks, nothing is pushed (409
 * `VCS_SYNC_PUSH_REJECTED`), whether seen before pushing or answered by the
 * remote; nothing changes here either way (the remote is named by URL: no
 * remote-tracking ref moves).
 */
export function push(ws: Workspace, caller: Caller, projectId: string): Promise<PushResult> {
  return changeProject(ws, caller, projectId, async (row, repo) => {
    const remote = await remoteOf(ws, row.id);
    const head = await repo.head();
    const before = await ws.remotes.git.branchCommit(repo.dir, remote, remote.branch);
    if (before === head) return { status: 'up-to-date', commit: head, branch: remote.branch };
    if (before !== undefined && !(await isAncestor(repo, before, head))) throw pushRejected(remote.branch);
    if (await ws.remotes.git.push(repo.dir, remote, head, remote.branch)) {
      return { status: 'pushed', commit: head, branch: remote.branch };
    }
    // Refused: moved meanwhile (not a fast-forward any more), or refused for the remote's own reasons.
    const after = await ws.remotes.git.branchCommit(repo.dir, remote, remote.branch);
    if (after !== before && after !== undefined && !(await isAncestor(repo, after, head))) {
      throw pushRejected(remote.branch);
    }
    throw new VcsSyncError('VCS_SYNC_PUSH_REMOTE_REFUSED', 'The remote refused the push.', {
      details: { branch: remote.branch },
    });
  });
}

function pushRejected(branch: string): VcsSyncError {
  return new VcsSyncError(
    'VCS_SYNC_PUSH_REJECTED',
    `The remote's ${branch} has commits this project lacks: pull first, then push.`,
    { details: { branch } },
  );
}

/** Whether `ancestor` is `commit` or one of its ancestors (false when this repository lacks `ancestor`). */
export async function isAncestor(repo: Repository, ancestor: string, commit: string): Promise<boolean> {
  const known = await repo.git.call(repo.dir, ['cat-file', '-e', `${ancestor}^{commit}`], {
    allowExitCodes: [1, 128],
  });
  if (!known.ok) return false;
  const outcome = await repo.git.call(repo.dir, ['merge-base', '--is-ancestor', ancestor, commit], {
    allowExitCodes: [1],
  });
  return outcome.ok;
}
