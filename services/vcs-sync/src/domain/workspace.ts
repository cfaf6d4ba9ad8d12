import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { QuotaSource } from '../clients/user-profile.js';
import { LimitError, ProjectNotFoundError } from '../errors.js';
import type { Git, RemotePolicy } from '../git/git.js';
import type { RemoteGit } from '../git/remote.js';
import { Repository } from '../git/repository.js';
import { findProject, otherProjectsBytes, type ProjectRow, updateSize } from '../store/projects.js';
import type { AccountGate, ProjectLocks } from './account-gate.js';
import type { TokenSealer } from './tokens.js';

/** The caps a project and an account live within (from configuration). */
export interface ProjectLimits {
  fileMaxBytes: number;
  projectMaxBytes: number;
  projectMaxFiles: number;
  maxProjects: number;
  maxProjectsAnonymous: number;
  diffMaxBytes: number;
}

/** Everything the project domain works with; built once by buildApp. */
export interface Workspace {
  pool: pg.Pool;
  git: Git;
  /** Root of the projects: each is `<projectsDir>/<id>`, a Git working tree. */
  projectsDir: string;
  templatesDir: string;
  limits: ProjectLimits;
  quotas: QuotaSource;
  gate: AccountGate;
  locks: ProjectLocks;
  /** Remotes: the git commands that talk to one, the protocols allowed, the tokens' seal. */
  remotes: { git: RemoteGit; policy: RemotePolicy; sealer: TokenSealer };
}

/** The account a request acts for, as the gateway verified it. */
export interface Caller {
  accountId: string;
  role: string | undefined;
}

/** The author of every commit a caller's change makes: the account, by id (no personal data in history). */
export function authorOf(caller: Caller): { name: string; email: string } {
  return { name: `account ${caller.accountId}`, email: `${caller.accountId}@accounts.taidon.invalid` };
}

/** The caller's project and its repository; another account's answers 404 like one that does not exist. */
export async function openProject(
  ws: Workspace,
  caller: Caller,
  projectId: string,
): Promise<{ row: ProjectRow; repo: Repository }> {
  const row = await findProject(ws.pool, caller.accountId, projectId);
  if (!row) throw new ProjectNotFoundError(projectId);
  return { row, repo: new Repository(ws.git, join(ws.projectsDir, row.id)) };
}

/** A read of the caller's project, within the account's share of git work. */
export function readProject<T>(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  work: (row: ProjectRow, repo: Repository) => Promise<T>,
): Promise<T> {
  return ws.gate.run(caller.accountId, async () => {
    const { row, repo } = await openProject(ws, caller, projectId);
    return work(row, repo);
  });
}

/**
 * A change of the caller's project: within the account's share of git work,
 * alone on the project, and all or nothing: when `work` fails, whatever it
 * left in the working tree or index is put back to the last commit. After
 * it, the project's size on disk is measured and recorded.
 */
export function changeProject<T>(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  work: (row: ProjectRow, repo: Repository) => Promise<T>,
): Promise<T> {
  return ws.gate.run(caller.accountId, async () => {
    const { row } = await openProject(ws, caller, projectId);
    return ws.locks.run(row.id, async () => {
      // Read again under the lock: a delete may have come first.
      const { row: current, repo } = await openProject(ws, caller, projectId);
      let result: T;
      try {
        result = await work(current, repo);
      } catch (error) {
        await repo.discardChanges().catch(() => {
          // Already failing: the error that matters is the one thrown below; the next change discards again.
        });
        throw error;
      }
      await updateSize(ws.pool, current.id, await sizeOnDisk(repo.dir));
      return result;
    });
  });
}

/**
 * Refuses a change that would add `addedBytes` to the project past its cap,
 * or the account's projects past its storage quota (asked of user-profile
 * only when the change grows the project).
 */
export async function checkGrowth(ws: Workspace, caller: Caller, row: ProjectRow, addedBytes: number): Promise<void> {
  if (addedBytes <= 0) return;
  await checkSize(ws, caller, row.id, row.sizeBytes + addedBytes);
}

/** Refuses a project of `wouldBe` bytes past its cap, or the account's projects with it past the storage quota. */
export async function checkSize(ws: Workspace, caller: Caller, projectId: string, wouldBe: number): Promise<void> {
  if (wouldBe > ws.limits.projectMaxBytes) {
    throw new LimitError('VCS_SYNC_PROJECT_TOO_LARGE', 'The project would be larger than it may be.', {
      limit: ws.limits.projectMaxBytes,
      wouldBe,
    });
  }
  const quota = await ws.quotas.storageBytes(caller.accountId, caller.role);
  const total = (await otherProjectsBytes(ws.pool, caller.accountId, projectId)) + wouldBe;
  if (total > quota) {
    throw new LimitError('VCS_SYNC_STORAGE_QUOTA_EXCEEDED', 'Your projects would take more than your storage quota.', {
      limit: quota,
      wouldBe: total,
    });
  }
}

/** Bytes under `dir` (files and links as they are, never followed): working tree and history. */
export async function sizeOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOnDisk(path);
    else total += (await lstat(path)).size;
  }
  return total;
}

/**
 * Writes `text` at `target` whole or not at all: into a new file inside the
 * repository's `.git` (same filesystem, outside the working tree), then
 * renamed over the target, which replaces a directory entry and follows no link.
 */
export async function writeAtomically(repoDir: string, target: string, text: string): Promise<void> {
  const temporary = join(repoDir, '.git', `vcs-sync-${randomBytes(8).toString('hex')}.tmp`);
  await writeFile(temporary, text, { flag: 'wx', mode: 0o644 });
  await rename(temporary, target);
}
